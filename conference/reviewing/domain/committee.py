"""The committee: invitations by e-mail and the memberships they grant; reviewer profiles.

State machine of an invitation: pending → accepted (once, by a signed-in account with the invited
address verified; membership at once) | declined (by anyone with the link) | revoked (by a chair).
Re-inviting a pending address re-sends the same link; a declined or revoked one gets a fresh link.
"""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url
from conference.mail import mail_enqueue
from conference.models import Membership, Workshop

from .. import selectors
from ..models import Invitation, ReviewerProfile, new_token
from .conflicts import conflicts_detect

INVITE_LINE = re.compile(
    r"^\s*(?:\"?(?P<name>[^<\",]*?)\"?\s*<(?P<email1>[^>]+)>|(?P<email2>[^\s,;<>]+@[^\s,;<>]+)"
    r"(?:[\s,;]+(?P<name2>.+))?)\s*$"
)


def invitation_parse(*, text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Lines like `Name <a@b.org>`, `a@b.org`, `a@b.org, Name` → ([(email, name)], [error lines])."""
    found, errors = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = INVITE_LINE.match(line)
        email = (match.group("email1") or match.group("email2") or "").strip().lower() if match else ""
        name = ((match.group("name") or match.group("name2") or "").strip()) if match else ""
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"“{line.strip()}” is not an e-mail address (write Name <name@example.org>).")
            continue
        found.append((email, name))
    return found, errors


def _invitation_reopen(invitation: Invitation, invited_by) -> None:
    """Re-inviting after a decline or a revocation: a fresh link, the old one stays dead."""
    invitation.token = new_token()
    invitation.state = Invitation.State.PENDING
    invitation.responded_at = None
    invitation.invited_by = invited_by or invitation.invited_by
    invitation.save(update_fields=["token", "state", "responded_at", "invited_by"])


def _invitation_mail(invitation: Invitation, name: str) -> None:
    workshop = invitation.workshop
    url = absolute_url(
        reverse("reviewing:invitation", kwargs={"workshop": workshop.slug, "token": invitation.token})
    )
    role_name = Membership.Role(invitation.role).label.lower()
    mail_enqueue(
        to=[invitation.email],
        subject=f"[{workshop.short_name}] Invitation to serve as {role_name}",
        body=render_to_string(
            "reviewing/mail/invitation.txt",
            {
                "name": name,
                "role_name": role_name,
                "workshop": workshop,
                "url": url,
                "email": invitation.email,
            },
        ),
    )


@transaction.atomic
def invitation_create(
    *, workshop: Workshop, email: str, name: str = "", role: str = Membership.Role.REVIEWER, invited_by=None
) -> Invitation:
    """Invites one person (or re-sends a pending invitation) and e-mails them the answer link."""
    email = email.strip().lower()
    validate_email(email)
    invitation, created = Invitation.objects.get_or_create(
        workshop=workshop,
        email=email,
        role=role,
        defaults={"name": name, "invited_by": invited_by},
    )
    if not created and invitation.state == Invitation.State.ACCEPTED:
        return invitation
    if not created and invitation.state != Invitation.State.PENDING:
        _invitation_reopen(invitation, invited_by)
    _invitation_mail(invitation, name)
    return invitation


def invitation_create_many(
    *, workshop: Workshop, text: str, role: str = Membership.Role.REVIEWER, invited_by=None
) -> tuple[list[Invitation], list[str]]:
    found, errors = invitation_parse(text=text)
    return [
        invitation_create(workshop=workshop, email=e, name=n, role=role, invited_by=invited_by)
        for e, n in found
    ], errors


def _membership_from_invitation(invitation: Invitation, user) -> None:
    Membership.objects.get_or_create(workshop=invitation.workshop, user=user, role=invitation.role)
    ReviewerProfile.objects.get_or_create(workshop=invitation.workshop, user=user)
    invitation.user = user
    invitation.save(update_fields=["user"])


def _invitation_check_answerable(invitation: Invitation, *, accept: bool, user) -> None:
    """Raises the reason an answer is refused: a used link, or an acceptance without an account that
    has the invited address verified."""
    if invitation.state == Invitation.State.REVOKED:
        raise ValidationError("This invitation was withdrawn by the chairs; it can no longer be used.")
    if invitation.state == Invitation.State.DECLINED:
        raise ValidationError("This invitation was declined; ask the chairs for a new one.")
    if invitation.state == Invitation.State.ACCEPTED:
        if user is not None and user.is_authenticated and invitation.user_id == user.id:
            raise ValidationError("You have already accepted this invitation.")
        raise ValidationError("This invitation has already been used: each link works once.")
    if not accept:
        return
    if user is None or not user.is_authenticated:
        raise ValidationError(f"To accept, log in with an account for {invitation.email} (or create one).")
    if not selectors.user_has_verified_email(user=user, email=invitation.email):
        raise ValidationError(
            f"This invitation is for {invitation.email}: accept it with an account that has this "
            "address, verified. Log out and create or use that account, or add and confirm the "
            "address in your account."
        )


@transaction.atomic
def invitation_respond(*, invitation: Invitation, accept: bool, user=None) -> Invitation:
    """Accepts or declines, once. Accepting needs a signed-in account with a verified copy of the
    invited address (the link alone grants nothing); declining needs only the link."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _invitation_check_answerable(invitation, accept=accept, user=user)
    invitation.state = Invitation.State.ACCEPTED if accept else Invitation.State.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["state", "responded_at"])
    if accept:
        _membership_from_invitation(invitation, user)
    return invitation


def invitation_accept_if_bound(*, token: str, user) -> Invitation | None:
    """Completes an acceptance the user started before having an account (the token kept in their
    session): accepted if still pending and the user has the invited address verified, else None."""
    invitation = Invitation.objects.filter(token=token, state=Invitation.State.PENDING).first()
    if invitation is None or not selectors.user_has_verified_email(user=user, email=invitation.email):
        return None
    try:
        return invitation_respond(invitation=invitation, accept=True, user=user)
    except ValidationError:
        return None


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by) -> Invitation:
    """A chair withdraws a pending invitation: its link says so from now on."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(
            f"Only pending invitations can be revoked; this one is {invitation.get_state_display().lower()}."
        )
    invitation.state = Invitation.State.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["state", "responded_at"])
    return invitation


def invitations_link_user(*, user) -> int:
    """Gives a user the roles of the invitations accepted for any of their verified addresses."""
    verified = [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]
    linked = 0
    for invitation in Invitation.objects.filter(
        state=Invitation.State.ACCEPTED, user__isnull=True, email__in=verified
    ):
        _membership_from_invitation(invitation, user)
        linked += 1
    return linked


# --- Reviewer profiles ---------------------------------------------------------------------------


def reviewer_profile_get_or_create(*, workshop: Workshop, user) -> ReviewerProfile:
    """The member's reviewer profile of the edition, created empty on first use."""
    profile, _ = ReviewerProfile.objects.get_or_create(workshop=workshop, user=user)
    return profile


def _split(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\n,;]+", value)
    return [v.strip() for v in value or [] if v and v.strip()]


@transaction.atomic
def reviewer_profile_update(
    *,
    profile: ReviewerProfile,
    topics=None,
    expertise: str = "",
    max_load=None,
    conflict_institutions="",
    conflict_domains="",
    conflict_emails="",
) -> ReviewerProfile:
    """Saves expertise, load and declared conflicts, then detects the member's conflicts again."""
    profile.expertise = expertise
    profile.max_load = max_load
    profile.conflict_institutions = _split(conflict_institutions)
    profile.conflict_domains = [d.lower().lstrip("@") for d in _split(conflict_domains)]
    profile.conflict_emails = [e.lower() for e in _split(conflict_emails)]
    profile.save()
    if topics is not None:
        profile.topics.set(topics)
    conflicts_detect(workshop=profile.workshop, users=[profile.user])
    return profile
