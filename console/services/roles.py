"""Role invitations: chairs invite co-chairs, challenge organisers (per track) and device operators.

State machine (as the committee's invitations, `conference.reviewing.domain.committee`): pending →
accepted (once, by a signed-in account with a verified copy of the invited address; the role is
granted at once) | declined (by anyone with the link) | revoked (by a chair). Inviting an address
that has a pending invitation to the same role re-sends the same link; after a decline or a
revocation a new invitation (a new link) is made.

Granting: co-chair → a `conference.Membership` with role chair; challenge organiser →
`challenge.organisers`; device operator → `device_host.operators`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge
from common.urls import absolute_url
from conference.mail import mail_enqueue
from conference.models import Membership, Workshop
from conference.reviewing.selectors import user_has_verified_email
from evaluation.models import DeviceHost

from .. import selectors
from ..models import RoleInvitation

Role = RoleInvitation.Role
State = RoleInvitation.State


def _mail(invitation: RoleInvitation) -> None:
    url = absolute_url(reverse("console:role-invitation", kwargs={"token": invitation.token}))
    mail_enqueue(
        to=[invitation.email],
        subject=f"[{invitation.workshop.short_name}] Invitation: {invitation.role_title}",
        body=render_to_string(
            "console/mail/role_invitation.txt",
            {"invitation": invitation, "url": url, "workshop": invitation.workshop},
        ),
    )


@transaction.atomic
def role_invitation_create(
    *,
    workshop: Workshop,
    email: str,
    role: str,
    name: str = "",
    challenge: Challenge | None = None,
    device_host: DeviceHost | None = None,
    invited_by=None,
) -> RoleInvitation:
    """Invites one address to a role (or re-sends the pending invitation) and e-mails the link."""
    email = email.strip().lower()
    validate_email(email)
    if role == Role.CHALLENGE_ORGANISER and (challenge is None or challenge.workshop_id != workshop.pk):
        raise ValidationError("Choose the track of this edition the organiser is invited to.")
    if role == Role.DEVICE_OPERATOR and device_host is None:
        raise ValidationError("Choose the device host the operator is invited to run.")
    if (
        role == Role.DEVICE_OPERATOR
        and invited_by is not None
        and not selectors.device_hosts_for(workshop=workshop, user=invited_by)
        .filter(pk=device_host.pk)
        .exists()
    ):
        raise ValidationError(
            "Chairs invite operators only to hosts whose devices measure this edition's tracks alone; "
            "ask a site administrator for any other host."
        )
    if role not in Role.values:
        raise ValidationError("Choose a role.")
    target = {
        "challenge": challenge if role == Role.CHALLENGE_ORGANISER else None,
        "device_host": device_host if role == Role.DEVICE_OPERATOR else None,
    }
    pending = RoleInvitation.objects.filter(
        workshop=workshop, email=email, role=role, state=State.PENDING, **target
    ).first()
    invitation = pending or RoleInvitation.objects.create(
        workshop=workshop, email=email, role=role, name=name, invited_by=invited_by, **target
    )
    _mail(invitation)
    return invitation


def _check_answerable(invitation: RoleInvitation, *, accept: bool, user) -> None:
    if invitation.state == State.REVOKED:
        raise ValidationError("This invitation was withdrawn by the chairs; it can no longer be used.")
    if invitation.state == State.DECLINED:
        raise ValidationError("This invitation was declined; ask the chairs for a new one.")
    if invitation.state == State.ACCEPTED:
        if user is not None and user.is_authenticated and invitation.user_id == user.id:
            raise ValidationError("You have already accepted this invitation.")
        raise ValidationError("This invitation has already been used: each link works once.")
    if not accept:
        return
    if user is None or not user.is_authenticated:
        raise ValidationError(f"To accept, log in with an account for {invitation.email} (or create one).")
    if not user_has_verified_email(user=user, email=invitation.email):
        raise ValidationError(
            f"This invitation is for {invitation.email}: accept it with an account that has this address, "
            "verified. Log out and create or use that account, or add and confirm the address in your account."
        )


def _grant(invitation: RoleInvitation, user) -> None:
    if invitation.role == Role.CO_CHAIR:
        Membership.objects.get_or_create(workshop=invitation.workshop, user=user, role=Membership.Role.CHAIR)
    elif invitation.role == Role.CHALLENGE_ORGANISER:
        invitation.challenge.organisers.add(user)
    elif invitation.role == Role.DEVICE_OPERATOR:
        invitation.device_host.operators.add(user)


@transaction.atomic
def role_invitation_respond(*, invitation: RoleInvitation, accept: bool, user=None) -> RoleInvitation:
    """Accepts (granting the role) or declines, once."""
    invitation = (
        RoleInvitation.objects.select_for_update(of=("self",))
        .select_related("challenge", "device_host", "workshop")
        .get(pk=invitation.pk)
    )
    _check_answerable(invitation, accept=accept, user=user)
    invitation.state = State.ACCEPTED if accept else State.DECLINED
    invitation.responded_at = timezone.now()
    if accept:
        invitation.user = user
        _grant(invitation, user)
    invitation.save(update_fields=["state", "responded_at", "user"])
    return invitation


@transaction.atomic
def role_invitation_revoke(*, invitation: RoleInvitation) -> RoleInvitation:
    invitation = RoleInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != State.PENDING:
        raise ValidationError(
            f"Only pending invitations can be revoked; this one is {invitation.get_state_display().lower()}."
        )
    invitation.state = State.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["state", "responded_at"])
    return invitation
