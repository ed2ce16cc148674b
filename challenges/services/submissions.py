"""Validation submissions: upload checks and limits under a row lock on the team, scoring through the
dispatch outbox (an idempotent state machine that records only its own attempt), and the sweep that
leaves nothing queued or scoring forever."""

import datetime as dt
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone

from common.dispatch import dispatch, dispatch_history, ref_for

from .. import scoring, selectors, timeline
from ..models import Challenge, Submission, Team
from .base import ChallengeError, require_participant

log = logging.getLogger(__name__)


@transaction.atomic
def submission_create(
    *,
    challenge: Challenge,
    user,
    name: str,
    data: bytes,
    method_name: str = "",
    method_description: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    """Checks the phase, the team, the limits and the file; stores it; queues scoring after commit.

    `now` is the instant the request arrived (`request.arrived_at`): the deadline (plus the challenge's
    grace) is judged on it and it is stored as the submission's time."""
    now = now or timezone.now()
    require_participant(challenge, user)
    tl = selectors.timeline_for(challenge)
    if not timeline.accepts_submissions(tl, timeline.Phase.VALIDATION, now):
        raise ChallengeError(
            selectors.phase_refusal(challenge=challenge, tl=tl, phase=timeline.Phase.VALIDATION, now=now)
        )
    team = selectors.team_for(user, challenge)
    if team is None:
        raise ChallengeError("Join or create a team first: submissions are made by teams.")
    Team.objects.select_for_update().get(pk=team.pk)  # serialise a team's submissions: limits hold
    limits = selectors.submission_limits(team=team, challenge=challenge, now=now)
    if limits.left_total <= 0:
        raise ChallengeError(f"Your team has used all {limits.total} submissions of this phase.")
    if limits.left_today <= 0:
        raise ChallengeError(
            f"Your team has used all {limits.per_day} submissions for today (the day ends at midnight UTC)."
        )
    gt = selectors.ground_truth_for(challenge=challenge)
    if gt is None:
        raise ChallengeError("The organisers have not uploaded the validation ground truth yet.")
    try:
        scoring.check_upload_isolated(
            result_format=challenge.result_format,
            name=name,
            data=data,
            max_bytes=challenge.max_upload_mb * 1024 * 1024,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        raise ChallengeError(str(exc)) from None
    submission = Submission(
        challenge=challenge,
        team=team,
        submitted_by=user,
        original_name=name[:255],
        size=len(data),
        method_name=method_name[:200],
        method_description=method_description,
    )
    submission.file.save(name, ContentFile(data), save=False)
    submission.save()
    # The stored submission time is the instant the request arrived (the deadline was judged on it),
    # not the moment the row was written (`created_at` is auto_now_add on the model).
    Submission.objects.filter(pk=submission.pk).update(created_at=now)
    submission.created_at = now
    submission_dispatch(submission=submission)
    return submission


SCORE_TASK = "challenges.score_submission"


def submission_dispatch(*, submission: Submission) -> None:
    """Queues the scoring through the dispatch outbox (`common.dispatch`), in the caller's transaction:
    the submission and its message commit together; a broker outage delays the scoring, never loses it
    (the page says "waiting for the queue service" meanwhile)."""
    dispatch(SCORE_TASK, args=[submission.pk], queue="scoring", ref=ref_for(submission))


@transaction.atomic
def submissions_rescore(*, submission_ids: list[int]) -> int:
    """Scores these submissions again (e.g. after the ground truth was replaced): queued again and
    dispatched through the outbox with their reset, so a broker outage delays them and loses none."""
    count = 0
    for submission in Submission.objects.select_for_update().filter(pk__in=submission_ids):
        submission.status = Submission.Status.QUEUED
        submission.error = ""
        submission.save(update_fields=["status", "error"])
        submission_dispatch(submission=submission)
        count += 1
    return count


def submission_score(*, submission_id: int) -> Submission | None:
    """The scoring state machine: queued/scoring → done (scores, per-file rows) or failed (reason).

    Idempotent: a submission already done or failed is left alone; one found in `scoring` (its worker
    died) is scored again."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update()
            .select_related("challenge")
            .filter(pk=submission_id)
            .first()
        )
        if submission is None or submission.is_final_state:
            return submission
        submission.status = Submission.Status.SCORING
        submission.started_at = timezone.now()
        submission.attempts += 1
        submission.save(update_fields=["status", "started_at", "attempts"])
        attempt = submission.attempts
    challenge = submission.challenge
    try:
        gt = selectors.ground_truth_for(challenge=challenge)
        if gt is None:
            raise scoring.ScoringError("The validation ground truth is missing; the organisers were told.")
        with gt.file.open("rb") as f:
            ground_truth = f.read()
        with submission.file.open("rb") as f:
            data = f.read()
        result = scoring.score_isolated(
            result_format=challenge.result_format,
            submission=data,
            ground_truth=ground_truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        return _finish(submission, status=Submission.Status.FAILED, error=str(exc), attempt=attempt)
    except Exception:  # noqa: BLE001 - an unexpected failure must not leave the submission stuck
        log.exception("scoring submission %s failed", submission.pk)
        return _finish(
            submission,
            status=Submission.Status.FAILED,
            error="Scoring failed because of an internal error; this does not count "
            "against your limits. The organisers were told.",
            attempt=attempt,
        )
    return _finish(
        submission,
        status=Submission.Status.DONE,
        scores=result.scores,
        per_file=result.per_file,
        attempt=attempt,
    )


def _finish(
    submission: Submission, *, status: str, error: str = "", scores=None, per_file=None, attempt=None
) -> Submission:
    """Records the outcome. With `attempt`, only while that attempt is still the current scoring (a
    result is recorded once: a run that the sweep already replaced, or that ended, changes nothing)."""
    if attempt is not None:
        with transaction.atomic():
            current = (
                Submission.objects.select_for_update()
                .filter(pk=submission.pk)
                .values("status", "attempts")
                .first()
            )
            if current != {"status": Submission.Status.SCORING, "attempts": attempt}:
                log.warning(
                    "submission %s: result of attempt %s discarded (now %s)", submission.pk, attempt, current
                )
                submission.refresh_from_db()
                return submission
            return _finish(submission, status=status, error=error, scores=scores, per_file=per_file)
    submission.status = status
    submission.error = error
    submission.scores = scores or {}
    submission.per_file = per_file or []
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "error", "scores", "per_file", "finished_at"])
    return submission


def submission_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """The sweep (beat, every BEAT_SWEEP_EVERY_S): nothing stays "queued" or "scoring" forever.

    A submission queued for CHALLENGES_STALE_QUEUED_S after its message was sent (the message was lost)
    or scoring for CHALLENGES_STALE_SCORING_S (its worker died) is dispatched again; after
    CHALLENGES_SCORING_MAX_ATTEMPTS runs or messages it fails with a reason (failed scorings do not count
    against the limits). One whose message still waits in the outbox (broker down) is the dispatcher's.
    Returns the ids dispatched again."""
    now = now or timezone.now()
    stale_queued = dt.timedelta(seconds=float(settings.CHALLENGES_STALE_QUEUED_S))
    stale_scoring = dt.timedelta(seconds=float(settings.CHALLENGES_STALE_SCORING_S))
    max_attempts = int(settings.CHALLENGES_SCORING_MAX_ATTEMPTS)
    requeued = []
    with transaction.atomic():
        stale = Submission.objects.select_for_update(skip_locked=True).filter(
            models.Q(status=Submission.Status.QUEUED, created_at__lt=now - stale_queued)
            | models.Q(status=Submission.Status.SCORING, started_at__lt=now - stale_scoring)
        )
        for sub in stale:
            history = dispatch_history(ref_for(sub), task=SCORE_TASK)
            if history.pending:
                continue  # waiting for the broker: the outbox dispatcher owns it
            if sub.status == Submission.Status.QUEUED:
                last = max(t for t in (history.last_sent_at, sub.started_at, sub.created_at) if t)
                if last > now - stale_queued:
                    continue
            tries = max(sub.attempts, history.count)
            if tries >= max_attempts:
                _finish(
                    sub,
                    status=Submission.Status.FAILED,
                    error=f"Scoring did not finish after {tries} attempts; this does not count "
                    "against your limits. The organisers were told.",
                )
                continue
            sub.status = Submission.Status.QUEUED
            sub.started_at = now  # marks when it was queued again
            sub.save(update_fields=["status", "started_at"])
            submission_dispatch(submission=sub)
            requeued.append(sub.pk)
    return requeued
