"""Registration: a participant registers (accepting the terms; organisers approve when the track asks
for it), with mail to the organisers and to the participant."""

import datetime as dt

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from conference.mail import mail_enqueue

from .. import selectors, timeline
from ..models import Challenge, Registration
from .base import ChallengeError


@transaction.atomic
def challenge_register(
    *, challenge: Challenge, user, accept_terms: bool, now: dt.datetime | None = None
) -> Registration:
    now = now or timezone.now()
    if not timeline.registration_open(selectors.timeline_for(challenge), now):
        raise ChallengeError("Registration for this challenge is closed.")
    if not accept_terms:
        raise ChallengeError("You must accept the terms of participation to register.")
    registration, created = Registration.objects.get_or_create(
        challenge=challenge,
        user=user,
        defaults={
            "accepted_terms_at": now,
            "approved": not challenge.requires_approval,
            "approved_at": None if challenge.requires_approval else now,
        },
    )
    if created and challenge.requires_approval:
        organisers = [u.email for u in challenge.organisers.all() if u.email]
        if organisers:
            mail_enqueue(
                to=organisers,
                subject=f"[{challenge.title}] Registration to approve",
                body=render_to_string(
                    "challenges/mail/registration_to_approve.txt", {"user": user, "challenge": challenge}
                ),
            )
    return registration


@transaction.atomic
def registration_approve(*, registration: Registration, approved: bool = True) -> Registration:
    registration.approved = approved
    registration.approved_at = timezone.now() if approved else None
    registration.save(update_fields=["approved", "approved_at"])
    if approved and registration.user.email:
        challenge = registration.challenge
        mail_enqueue(
            to=[registration.user.email],
            subject=f"[{challenge.title}] Registration approved",
            body=render_to_string("challenges/mail/registration_approved.txt", {"challenge": challenge}),
        )
    return registration
