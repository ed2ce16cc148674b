"""What every write of the challenge side shares: the refusal it raises and the two rules most actions
check first (an approved registration; teams still editable)."""

import datetime as dt

from django.core.exceptions import ValidationError

from .. import selectors, timeline
from ..models import Challenge, Registration


class ChallengeError(ValidationError):
    """A rule of the challenge forbids the action; the message is for the user."""


def require_participant(challenge: Challenge, user) -> Registration:
    registration = selectors.registration_for(user, challenge)
    if registration is None:
        raise ChallengeError("Register for this challenge first.")
    if not registration.approved:
        raise ChallengeError("Your registration awaits the organisers' approval.")
    return registration


def require_teams_editable(challenge: Challenge, now: dt.datetime) -> None:
    if not timeline.teams_editable(selectors.timeline_for(challenge), now):
        raise ChallengeError("Teams can no longer be changed: the final deadline has passed.")
