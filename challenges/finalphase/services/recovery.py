"""Recovery: the sweep (beat) that gives every unfinished step of a model submission an owner and a
deadline, re-dispatching lost or stuck measurements and failing them, with a reason, after too many
attempts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings as dj_settings
from django.db import transaction
from django.utils import timezone

from common.dispatch import dispatch_history
from evaluation.models import RuntimeJob
from evaluation.selectors import runtime_job_get_by_pk

from ..models import ModelSubmission
from .scores import final_settings_get
from .submissions import (
    FIDELITY_TASK,
    START_RUNTIME_TASK,
    _dispatch_step,
    _step_ref,
    model_submission_conclude,
    model_submission_record_runtime,
)


def model_submissions_recover_stale(*, now: dt.datetime | None = None) -> dict:
    """The sweep (beat, every BEAT_SWEEP_EVERY_S): every step of an unfinished submission has an owner
    and a deadline.

    - Fidelity queued (its message sent more than FINALPHASE_STALE_QUEUED_S ago and lost), or running
      beyond the track's fidelity time limit + FINALPHASE_FIDELITY_GRACE_S (its scoring worker was
      killed): dispatched again; after FINALPHASE_MAX_ATTEMPTS messages the step fails with a reason.
    - Runtime not started (no job yet, message lost): `start_runtime` dispatched again, the same way.
      A runtime job that exists belongs to evaluation's own sweep; if it ended but its result never
      reached the submission, the result is recorded now.
    Messages still waiting in the outbox (broker down) are the dispatcher's. Failed submissions do not
    count against the limit. Returns counts {"redispatched", "failed", "recorded", "skipped"}."""
    now = now or timezone.now()
    stale_queued = dt.timedelta(seconds=float(dj_settings.FINALPHASE_STALE_QUEUED_S))
    grace = dt.timedelta(seconds=float(dj_settings.FINALPHASE_FIDELITY_GRACE_S))
    max_attempts = int(dj_settings.FINALPHASE_MAX_ATTEMPTS)
    counts = {"redispatched": 0, "failed": 0, "recorded": 0, "skipped": 0}
    for sub in ModelSubmission.objects.filter(status=ModelSubmission.Status.RUNNING).select_related(
        "challenge"
    ):
        ref = _step_ref(sub.pk)
        # Fidelity.
        if sub.fidelity_status in (ModelSubmission.Step.QUEUED, ModelSubmission.Step.RUNNING):
            history = dispatch_history(ref, task=FIDELITY_TASK)
            if not history.pending:
                if sub.fidelity_status == ModelSubmission.Step.QUEUED:
                    last = history.last_sent_at or sub.created_at
                    due = last + stale_queued <= now
                else:
                    limit = dt.timedelta(
                        seconds=float(final_settings_get(challenge=sub.challenge).fidelity_time_limit_s)
                    )
                    started = sub.fidelity_started_at or history.last_sent_at or sub.created_at
                    due = started + limit + grace <= now
                if due:
                    counts[_redispatch_or_fail(sub, FIDELITY_TASK, history.count, max_attempts)] += 1
        # Runtime.
        if sub.runtime_status == ModelSubmission.Step.QUEUED and not sub.runtime_job_id:
            history = dispatch_history(ref, task=START_RUNTIME_TASK)
            if not history.pending and (history.last_sent_at or sub.created_at) + stale_queued <= now:
                counts[_redispatch_or_fail(sub, START_RUNTIME_TASK, history.count, max_attempts)] += 1
        elif sub.runtime_status == ModelSubmission.Step.RUNNING and sub.runtime_job_id:
            job = runtime_job_get_by_pk(pk=sub.runtime_job_id)
            if job is not None and job.finished:
                model_submission_record_runtime(job=job, succeeded=job.state == RuntimeJob.State.DONE)
                counts["recorded"] += 1
    return counts


def _redispatch_or_fail(sub: ModelSubmission, task: str, sent: int, max_attempts: int) -> str:
    step = "fidelity" if task == FIDELITY_TASK else "runtime"
    with transaction.atomic():
        locked = ModelSubmission.objects.select_for_update().get(pk=sub.pk)
        status_field = f"{step}_status"
        if getattr(locked, status_field) != getattr(sub, status_field) or locked.is_final_state:
            return "skipped"  # moved on meanwhile
        if sent >= max_attempts:
            what = "fidelity run on the hidden test data" if step == "fidelity" else "runtime measurement"
            setattr(locked, status_field, ModelSubmission.Step.FAILED)
            setattr(
                locked,
                f"{step}_error",
                f"The {what} did not finish after {sent} attempts (the worker running it stopped); this "
                "submission does not count against your limit. The organisers were told.",
            )
            locked.save(update_fields=[status_field, f"{step}_error"])
            model_submission_conclude(submission_id=sub.pk)
            return "failed"
        if step == "fidelity":
            # The old attempt's late result is discarded (see model_submission_run_fidelity).
            locked.fidelity_status = ModelSubmission.Step.QUEUED
            locked.fidelity_started_at = None
            locked.fidelity_progress = ""
            locked.save(update_fields=["fidelity_status", "fidelity_started_at", "fidelity_progress"])
        _dispatch_step(sub.pk, task)
        return "redispatched"
