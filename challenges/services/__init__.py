"""Writes of the challenge side, one module per concern: `registration`, `teams`, `data` (data files)
and `submissions` (validation submissions and their scoring); `base` holds `ChallengeError` and the
rules most actions check first.

Every function is keyword-only, runs in a transaction and raises `ChallengeError` (a Django
`ValidationError`) with a message for the user when a rule forbids the action; nothing is stored then.
Time gates come from `challenges.timeline`, evaluated at `now` (defaults to the clock). Reads are in
`challenges.selectors`.

The package also offers every service under its old name (`services.submission_create`), so callers
outside this app (other apps' tests) need not know the modules.
"""

from .base import ChallengeError
from .data import data_file_create
from .registration import challenge_register, registration_approve
from .submissions import (
    SCORE_TASK,
    submission_create,
    submission_dispatch,
    submission_requeue_stale,
    submission_score,
    submissions_rescore,
)
from .teams import team_create, team_invitation_accept, team_invite, team_join, team_leave

__all__ = [
    "SCORE_TASK",
    "ChallengeError",
    "challenge_register",
    "data_file_create",
    "registration_approve",
    "submission_create",
    "submission_dispatch",
    "submission_requeue_stale",
    "submission_score",
    "submissions_rescore",
    "team_create",
    "team_invitation_accept",
    "team_invite",
    "team_join",
    "team_leave",
]
