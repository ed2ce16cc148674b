"""Model submissions and their measurements: intake against the track's contract, the team's limit,
the two measurements (fidelity on the hidden test data in the sandbox, runtime as an `evaluation` job
on the track's target device), the conclusion into a score, the team's selection, and the mail that
tells the team it ended."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from challenges import timeline
from challenges.models import Challenge, DataFile, Team
from challenges.selectors import deadline_passed_message, phase_refusal, team_for, timeline_for
from common.dispatch import dispatch
from common.urls import absolute_url
from conference.mail import mail_enqueue
from evaluation.services import RuntimeJobRefused, runtime_job_create
from evaluation.tflite import (
    ModelRejected,
    contract_shape_hints,
    inspect_model,
    shape_messages,
    validate_against_contract,
)

from ..fidelity import FidelityError, compute_metrics, load_arrays, run_model
from ..models import FinalPhaseSettings, ModelSubmission
from ..selectors import measured_on_label, submissions_counted_against_limit
from .base import FinalPhaseRefused, read_upload
from .scores import final_settings_get, score_compute

logger = logging.getLogger(__name__)
RUNTIME_PURPOSE = "final"
FIDELITY_TASK = "finalphase.run_fidelity"
START_RUNTIME_TASK = "finalphase.start_runtime"


def contract_for(challenge: Challenge, *, dynamic: bool = False) -> dict:
    """The track's contract in `evaluation.tflite.Contract` form. A dynamic-size model may leave the
    spatial dimensions free (None); the main model must have the contract's fixed shape."""

    def spec(shape, dtype):
        shape = list(shape or [])
        if dynamic and len(shape) == 4:
            shape = [shape[0], None, None, shape[3]]
        return {"shape": shape or None, "dtype": dtype}

    return {
        "inputs": [spec(challenge.input_shape, challenge.input_dtype)] if challenge.input_shape else [],
        "outputs": [spec(challenge.output_shape, challenge.output_dtype)] if challenge.output_shape else [],
        "input_range": [challenge.value_range_min, challenge.value_range_max],
        "int8_required": challenge.int8_required,
        "allow_dynamic": dynamic,
    }


def _phase_message(tl: timeline.Timeline, now: dt.datetime, challenge: Challenge) -> str:
    return phase_refusal(challenge=challenge, tl=tl, phase=timeline.Phase.FINAL, now=now)


def _check_model(data: bytes, contract: dict, *, label: str, sized_by: dict | None = None) -> dict:
    """Intake at the track's shape: dynamic dimensions take `sized_by`'s input shapes (the fixed
    contract; a dynamic-size copy is checked at the size the track measures)."""
    try:
        info = inspect_model(data, shape_hints=contract_shape_hints(sized_by or contract))
    except ModelRejected as exc:
        raise FinalPhaseRefused([f"{label}: {exc.message}"], code="bad_model") from exc
    problems = validate_against_contract(info, contract)
    if problems:
        raise FinalPhaseRefused([f"{label}: {p}" for p in problems], code="contract")
    if info.shape_problems:
        raise FinalPhaseRefused([f"{label}: {p}" for p in shape_messages(info)], code="contract")
    return info.as_dict()


def model_submission_create(
    *,
    challenge: Challenge,
    user,
    model_file,
    dynamic_model_file=None,
    results_file=None,
    method_name: str = "",
    now: dt.datetime | None = None,
) -> ModelSubmission:
    """Checks who, when, how many and the model against the track contract; stores the submission and
    queues its fidelity and runtime measurements after commit. Raises `FinalPhaseRefused`."""
    now = now or timezone.now()
    team = _submitting_team(challenge=challenge, user=user, now=now)
    settings = final_settings_get(challenge=challenge)
    _check_limit(team=team, settings=settings, detail=" (failed ones do not count)")
    if settings.requires_dynamic_model and not dynamic_model_file:
        raise FinalPhaseRefused(
            [
                "This track also needs the model with dynamic input size (None in the "
                "spatial dimensions) for the full-resolution fidelity run."
            ],
            code="dynamic",
        )
    data = read_upload(model_file, limit_mb=settings.max_model_mb, label="model file")
    info = _check_model(data, contract_for(challenge), label="model.tflite")
    dynamic_data = _read_dynamic_model(challenge=challenge, upload=dynamic_model_file, settings=settings)
    results_data = _read_results(challenge=challenge, upload=results_file)
    with transaction.atomic():
        # Lock the team so two parallel uploads cannot both pass the limit.
        Team.objects.select_for_update().get(pk=team.pk)
        _check_limit(team=team, settings=settings)
        submission = _submission_store(
            challenge=challenge,
            team=team,
            user=user,
            settings=settings,
            method_name=method_name,
            files={
                "model": ("model.tflite", data),
                "dynamic_model": ("model_dynamic.tflite", dynamic_data),
                "results": (Path(results_file.name).name[-100:] if results_file else "", results_data),
            },
            info=info,
            now=now,
        )
        _queue_measurements(submission.pk)  # outbox rows commit with the submission
    return submission


def _submitting_team(*, challenge: Challenge, user, now: dt.datetime) -> Team:
    """The user's team, when the final phase accepts submissions at `now`."""
    team = team_for(user, challenge)
    if team is None:
        raise FinalPhaseRefused(
            ["You are not in a team of this challenge: create or join a team first."], code="no_team"
        )
    tl = timeline_for(challenge)
    if not timeline.accepts_submissions(tl, timeline.Phase.FINAL, now):
        raise FinalPhaseRefused([_phase_message(tl, now, challenge)], code="closed")
    return team


def _check_limit(*, team: Team, settings: FinalPhaseSettings, detail: str = "") -> None:
    if submissions_counted_against_limit(team=team) >= settings.max_submissions:
        raise FinalPhaseRefused(
            [f"Your team has used all {settings.max_submissions} final submissions{detail}."], code="limit"
        )


def _read_dynamic_model(*, challenge: Challenge, upload, settings: FinalPhaseSettings) -> bytes | None:
    """The dynamic-size copy, checked at the size the track measures; None when there is none."""
    if not upload:
        return None
    data = read_upload(upload, limit_mb=settings.max_model_mb, label="dynamic-size model")
    _check_model(
        data,
        contract_for(challenge, dynamic=True),
        label="Dynamic-size model",
        sized_by=contract_for(challenge),
    )
    return data


def _read_results(*, challenge: Challenge, upload) -> bytes | None:
    if not upload:
        return None
    data = read_upload(upload, limit_mb=challenge.max_upload_mb, label="results file")
    if not str(upload.name).lower().endswith((".zip", ".npz", ".csv")):
        raise FinalPhaseRefused(["The results file must be a .zip, .npz or .csv."], code="results_type")
    return data


def _submission_store(
    *,
    challenge: Challenge,
    team: Team,
    user,
    settings: FinalPhaseSettings,
    method_name: str,
    files: dict[str, tuple[str, bytes | None]],
    info: dict,
    now: dt.datetime,
) -> ModelSubmission:
    """Writes the row and its files (`files`: field → (name, bytes or None)), as submitted at `now`."""
    data = files["model"][1]
    submission = ModelSubmission(
        challenge=challenge,
        team=team,
        submitted_by=user,
        model_size=len(data),
        model_sha256=hashlib.sha256(data).hexdigest(),
        model_info=info,
        method_name=method_name[:200],
        device_name=settings.device_slug,
    )
    for field, (name, content) in files.items():
        if content is not None:
            getattr(submission, field).save(name, ContentFile(content), save=False)
    submission.save()
    # Stored as submitted at the instant the request arrived (the deadline was judged on it).
    ModelSubmission.objects.filter(pk=submission.pk).update(created_at=now)
    submission.created_at = now
    return submission


def _queue_measurements(submission_id: int) -> None:
    """Both measurements through the dispatch outbox, in the caller's transaction (`common.dispatch`)."""
    _dispatch_step(submission_id, FIDELITY_TASK)
    _dispatch_step(submission_id, START_RUNTIME_TASK)


def _step_ref(submission_id: int) -> str:
    return f"finalphase.modelsubmission:{submission_id}"


def _dispatch_step(submission_id: int, task: str) -> None:
    queue = "scoring" if task == FIDELITY_TASK else "default"
    dispatch(task, args=[submission_id], queue=queue, ref=_step_ref(submission_id))


def model_submission_select(
    *, submission: ModelSubmission, user, now: dt.datetime | None = None
) -> ModelSubmission:
    """The team picks the submission that counts (when the organisers let teams select), until the
    final deadline (plus grace) judged at `now`, the request's arrival."""
    now = now or timezone.now()
    settings = final_settings_get(challenge=submission.challenge)
    if settings.counting_policy != FinalPhaseSettings.CountingPolicy.TEAM_SELECTED:
        raise FinalPhaseRefused(
            ["In this track the team's last valid submission counts; there is nothing to select."],
            code="policy",
        )
    if team_for(user, submission.challenge) != submission.team:
        raise FinalPhaseRefused(["Only a member of the team can select its submission."], code="not_member")
    if submission.status != ModelSubmission.Status.DONE:
        raise FinalPhaseRefused(["Only a successfully measured submission can be selected."], code="not_done")
    tl = timeline_for(submission.challenge)
    closes = timeline.phase_closes_at(tl, timeline.Phase.FINAL)
    if closes is not None and now >= closes:
        raise FinalPhaseRefused(
            [
                deadline_passed_message(
                    what="The final phase",
                    deadline=timeline.phase_deadline(tl, timeline.Phase.FINAL),
                    now=now,
                    workshop=submission.challenge.workshop,
                )
                + " The selection is final."
            ],
            code="closed",
        )
    with transaction.atomic():
        ModelSubmission.objects.filter(team=submission.team).update(selected=False)
        ModelSubmission.objects.filter(pk=submission.pk).update(selected=True)
    submission.refresh_from_db()
    return submission


def _hidden_arrays(challenge: Challenge, split: str) -> dict:
    files = [
        f for f in DataFile.objects.filter(challenge=challenge, split=split).order_by("title", "pk") if f.file
    ]
    if not files:
        label = "test inputs" if split == DataFile.Split.TEST_INPUT else "test ground truth"
        raise FidelityError(
            f"The organisers have not uploaded the hidden {label} yet; your submission will "
            "not count against your limit."
        )
    arrays: dict = {}
    for data_file in files:
        with data_file.file.open("rb") as fh:
            arrays.update(load_arrays(data_file.file.name, fh.read()))
    return arrays


def _step_update(submission_id: int, **fields) -> None:
    ModelSubmission.objects.filter(pk=submission_id).update(**fields)


def model_submission_run_fidelity(*, submission_id: int) -> None:
    """The fidelity job (Celery, queue `scoring`). Idempotent: a redelivered task for a finished step
    does nothing."""
    started = _fidelity_start(submission_id=submission_id)
    if started is None:
        return
    submission, started_at = started

    def update_mine(**fields) -> None:
        # Idempotent by attempt: only the current attempt (its start instant) records progress and
        # result; a run that the sweep replaced, or a duplicate message's run, changes nothing.
        ModelSubmission.objects.filter(
            pk=submission_id, fidelity_started_at=started_at, fidelity_status=ModelSubmission.Step.RUNNING
        ).update(**fields)

    try:
        metrics, count = _fidelity_measure(
            submission=submission,
            on_progress=lambda done, total: update_mine(fidelity_progress=f"{done} of {total} test inputs"),
        )
    except FidelityError as exc:
        update_mine(
            fidelity_status=ModelSubmission.Step.FAILED, fidelity_error=exc.message, fidelity_progress=""
        )
    except Exception as exc:  # noqa: BLE001 - any other failure still ends the step with a reason
        logger.exception("fidelity of submission %s failed", submission_id)
        update_mine(
            fidelity_status=ModelSubmission.Step.FAILED,
            fidelity_progress="",
            fidelity_error=f"The fidelity run failed unexpectedly ({type(exc).__name__}); the "
            "organisers have been told.",
        )
    else:
        update_mine(
            fidelity_status=ModelSubmission.Step.DONE,
            metrics=metrics,
            fidelity_progress=f"{count} of {count} test inputs",
        )
    model_submission_conclude(submission_id=submission_id)


def _fidelity_start(*, submission_id: int) -> tuple[ModelSubmission, dt.datetime] | None:
    """Marks the step running (this attempt's start instant); None when there is nothing to run."""
    with transaction.atomic():
        submission = (
            ModelSubmission.objects.select_for_update()
            .select_related("challenge")
            .filter(pk=submission_id)
            .first()
        )
        # Done, failed or skipped: a redelivered task does nothing. Running: the worker that ran it was
        # lost (acks_late redelivers), so run it again.
        if submission is None or submission.fidelity_status in (
            ModelSubmission.Step.DONE,
            ModelSubmission.Step.FAILED,
            ModelSubmission.Step.SKIPPED,
        ):
            return None
        submission.fidelity_status = ModelSubmission.Step.RUNNING
        submission.fidelity_progress = "Loading the hidden test data"
        submission.fidelity_started_at = started = timezone.now()
        submission.save(update_fields=["fidelity_status", "fidelity_progress", "fidelity_started_at"])
    return submission, started


def _fidelity_measure(*, submission: ModelSubmission, on_progress) -> tuple[dict, int]:
    """The model (its dynamic-size copy when there is one) on the hidden test inputs, in the sandbox;
    returns the track's metrics against the hidden ground truth and the number of inputs run."""
    challenge = submission.challenge
    settings = final_settings_get(challenge=challenge)
    keys = [m["key"] for m in challenge.metrics or []]
    field = submission.dynamic_model if submission.dynamic_model else submission.model
    inputs = _hidden_arrays(challenge, DataFile.Split.TEST_INPUT)
    truth = _hidden_arrays(challenge, DataFile.Split.TEST_GT)
    with field.open("rb") as fh:
        model_bytes = fh.read()
    with tempfile.NamedTemporaryFile(suffix=".tflite") as tmp:
        tmp.write(model_bytes)
        tmp.flush()
        outputs = run_model(
            Path(tmp.name),
            inputs,
            threads=1,
            fidelity_shape=settings.fidelity_input_shape or None,
            time_limit_s=settings.fidelity_time_limit_s,
            on_progress=on_progress,
        )
    metrics = compute_metrics(keys, outputs, truth, data_range=max(challenge.value_range_max, 1.0))
    return metrics, len(outputs)


def model_submission_start_runtime(*, submission_id: int) -> None:
    """Creates the runtime job on the track's target device (Celery, queue `default`)."""
    submission = ModelSubmission.objects.select_related("challenge").filter(pk=submission_id).first()
    if (
        submission is None
        or submission.runtime_job_id
        or submission.runtime_status != ModelSubmission.Step.QUEUED
    ):
        return
    settings = final_settings_get(challenge=submission.challenge)
    with submission.model.open("rb") as fh:
        data = fh.read()
    try:
        # One transaction: the job is sent to its device only after runtime_job_id is stored, so a
        # job that finishes at once still finds its submission.
        with transaction.atomic():
            # A duplicate message (outbox re-send, sweep) must not create a second job: lock and re-check.
            if (
                not ModelSubmission.objects.select_for_update()
                .filter(
                    pk=submission_id, runtime_job_id__isnull=True, runtime_status=ModelSubmission.Step.QUEUED
                )
                .exists()
            ):
                return
            job = runtime_job_create(
                owner=submission.submitted_by,
                model_file=data,
                device=settings.device_slug,
                accelerator=settings.accelerator,
                options={"threads": settings.threads, "timed_runs": settings.timed_runs},
                contract=contract_for(submission.challenge),
                purpose=RUNTIME_PURPOSE,
                model_name=f"final-{submission.public_id}.tflite",
                check_rate=False,
            )
            _step_update(
                submission_id,
                runtime_job_id=job.pk,
                runtime_status=ModelSubmission.Step.RUNNING,
                device_name=measured_on_label(challenge=submission.challenge, device=job.device),
            )
    except RuntimeJobRefused as exc:
        _step_update(
            submission_id, runtime_status=ModelSubmission.Step.FAILED, runtime_error=" ".join(exc.messages)
        )
        model_submission_conclude(submission_id=submission_id)


def model_submission_record_runtime(*, job, succeeded: bool) -> None:
    """Receiver of `evaluation.signals.runtime_job_finished` for final-phase jobs."""
    if getattr(job, "purpose", None) != RUNTIME_PURPOSE:
        return
    submission = ModelSubmission.objects.filter(runtime_job_id=job.pk).first()
    if submission is None or submission.runtime_status in (
        ModelSubmission.Step.DONE,
        ModelSubmission.Step.FAILED,
    ):
        return
    if succeeded and job.mean_ms is not None:
        _step_update(
            submission.pk,
            runtime_status=ModelSubmission.Step.DONE,
            runtime_ms=job.mean_ms,
            memory_mb=job.peak_memory_mb,
            power_w=job.power_w,
            energy_mj=job.energy_mj,
            device_name=measured_on_label(challenge=submission.challenge, device=job.device),
        )
    else:
        _step_update(
            submission.pk,
            runtime_status=ModelSubmission.Step.FAILED,
            runtime_error=job.error_message or "The runtime measurement failed.",
        )
    model_submission_conclude(submission_id=submission.pk)


def model_submission_conclude(*, submission_id: int) -> None:
    """Moves the submission to done (score computed) or failed once both measurements have ended."""
    with transaction.atomic():
        submission = ModelSubmission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.is_final_state:
            return
        steps = (submission.fidelity_status, submission.runtime_status)
        failed = ModelSubmission.Step.FAILED in steps
        if not failed and steps != (ModelSubmission.Step.DONE, ModelSubmission.Step.DONE):
            return
        submission.finished_at = timezone.now()
        if failed:
            submission.status = ModelSubmission.Status.FAILED
            # A step that has not started yet is not worth running any more.
            if submission.fidelity_status == ModelSubmission.Step.QUEUED:
                submission.fidelity_status = ModelSubmission.Step.SKIPPED
            if submission.runtime_status == ModelSubmission.Step.QUEUED and not submission.runtime_job_id:
                submission.runtime_status = ModelSubmission.Step.SKIPPED
            reasons = [
                r
                for r in (
                    submission.fidelity_error and f"Fidelity: {submission.fidelity_error}",
                    submission.runtime_error and f"Runtime: {submission.runtime_error}",
                )
                if r
            ]
            submission.error = " ".join(reasons)
            submission.selected = False
        else:
            submission.status = ModelSubmission.Status.DONE
            submission.score, submission.score_error = score_compute(
                submission=submission, settings=final_settings_get(challenge=submission.challenge)
            )
        submission.save()
        _mail_concluded(submission)


def _mail_concluded(submission: ModelSubmission) -> None:
    """Tells the team the measurement ended; the numbers stay on the site, behind its visibility rules."""
    recipients = [m.user.email for m in submission.team.memberships.select_related("user") if m.user.email]
    if not recipients:
        return
    challenge = submission.challenge
    done = submission.status == ModelSubmission.Status.DONE
    outcome = "was measured" if done else "failed"
    context = {
        "submission": submission,
        "done": done,
        "error": submission.error,
        "url": absolute_url(submission.get_absolute_url()),
    }
    mail_enqueue(
        to=recipients,
        subject=f"[{challenge.workshop.short_name}] {challenge.title}: your final submission {outcome}",
        body=render_to_string("finalphase/mail/submission_concluded.txt", context),
    )
