"""Permission predicates of the challenge side (django-rules), used by views, API and templates.

Object: a `Challenge` (or, for submissions and data files, the object whose `challenge` is checked).
Time gates come from `challenges.timeline`; these predicates add who the user is.
"""

import rules
from django.utils import timezone

from . import timeline
from .models import Challenge, DataFile, Submission
from .selectors import timeline_for, user_in_team, user_is_approved_participant, user_organises


def _challenge(obj) -> Challenge | None:
    if obj is None:
        return None
    return obj if isinstance(obj, Challenge) else getattr(obj, "challenge", None)


@rules.predicate
def is_challenge_organiser(user, obj) -> bool:
    return user_organises(user=user, challenge=_challenge(obj))


@rules.predicate
def is_approved_participant(user, obj) -> bool:
    return user_is_approved_participant(user=user, challenge=_challenge(obj))


@rules.predicate
def is_member_of_submission_team(user, submission: Submission | None) -> bool:
    return user_in_team(user=user, team_id=submission.team_id if submission is not None else None)


@rules.predicate
def data_file_released(user, data_file: DataFile | None) -> bool:
    if data_file is None or data_file.is_ground_truth:
        return False
    return data_file.split in timeline.downloadable_splits(timeline_for(data_file.challenge), timezone.now())


rules.add_perm("challenges.manage_challenge", is_challenge_organiser)
rules.add_perm(
    "challenges.download_data", is_challenge_organiser | (is_approved_participant & data_file_released)
)
rules.add_perm("challenges.view_submission", is_challenge_organiser | is_member_of_submission_team)
