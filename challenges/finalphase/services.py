"""Writes of the final phase, as keyword-only `<entity>_<action>` functions that views, the API, admin
and tasks call.

A model submission's life (a state machine, each step inside `transaction.atomic()`):

    model_submission_create ── contract checked at upload; stored; after commit two tasks are queued:
      ├─ finalphase.run_fidelity (queue `scoring`): hidden test inputs → the model (sandboxed) →
      │    the track's metrics against the hidden ground truth   → fidelity_status done | failed
      └─ finalphase.start_runtime (queue `default`): an `evaluation` runtime job on the track's target
           device; `evaluation.signals.runtime_job_finished` → model_submission_record_runtime
                                                             → runtime_status done | failed
    model_submission_conclude: both done → score by the formula → status done; either failed → failed
    (a failed submission does not count against the team's limit).

Changing the formula or its constants (`final_settings_update`) recomputes every score
(`scores_recompute`). Fact sheets and code (`factsheet_save`, `code_submission_save`) are accepted until
the fact-sheet deadline."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
from pathlib import Path

from django.conf import settings as dj_settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from challenges import timeline
from challenges.models import Challenge, DataFile, Team
from challenges.selectors import deadline_passed_message, phase_refusal, team_for, timeline_for
from common.urls import absolute_url

from .formula import FormulaError, formula_parse, formula_validate
from .models import CodeSubmission, FactSheet, FinalPhaseSettings, ModelSubmission

logger = logging.getLogger(__name__)
RUNTIME_PURPOSE = "final"
FACTSHEET_ATTACHMENT_MB = 20
ATTACHMENT_TYPES = (".pdf", ".tex", ".zip")
CODE_TYPES = (".zip", ".tar.gz", ".tgz", ".tar", ".7z")


class FinalPhaseRefused(ValidationError):
    """A refused upload or change; `.messages` say what to fix, `.reason` names the rule. Nothing was
    stored."""

    def __init__(self, messages: list[str], *, code: str = "invalid"):
        super().__init__(messages)
        self.reason = code


# --- Settings and scores ---------------------------------------------------------------------------
def final_settings_get(*, challenge: Challenge) -> FinalPhaseSettings:
    settings, _ = FinalPhaseSettings.objects.get_or_create(
        challenge=challenge, defaults={"constants": {"C": 1.0}}
    )
    return settings


def final_settings_update(*, challenge: Challenge, **fields) -> FinalPhaseSettings:
    """Validates the formula with its constants (parse + one evaluation on plausible values), saves,
    and recomputes every score of the challenge. Raises `FinalPhaseRefused` leaving the old settings."""
    with transaction.atomic():
        settings = FinalPhaseSettings.objects.select_for_update().get(
            pk=final_settings_get(challenge=challenge).pk
        )
        for name, value in fields.items():
            setattr(settings, name, value)
        try:
            formula_validate(settings.score_formula, constants=settings.constants)
        except FormulaError as exc:
            raise FinalPhaseRefused([exc.message], code="formula")
        settings.full_clean()
        settings.save()
        scores_recompute(challenge=challenge, settings=settings)
    return settings


def results_release_set(*, challenge: Challenge, at: dt.datetime) -> dt.datetime:
    """Moves the "preliminary test results released" milestone (participants see the final
    leaderboard from that instant on)."""
    from challenges.models import Milestone

    if timezone.is_naive(at):
        raise FinalPhaseRefused(["Give the release time with its time zone."], code="naive")
    Milestone.objects.update_or_create(
        challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS, defaults={"at": at}
    )
    return at


def score_compute(*, submission: ModelSubmission, settings: FinalPhaseSettings) -> tuple[float | None, str]:
    try:
        formula = formula_parse(settings.score_formula, constants=settings.constants)
        return formula.evaluate(submission.quantities()), ""
    except FormulaError as exc:
        return None, exc.message[:300]


def scores_recompute(*, challenge: Challenge, settings: FinalPhaseSettings | None = None) -> int:
    """Recomputes the score of every measured submission of the challenge; returns how many."""
    settings = settings or final_settings_get(challenge=challenge)
    count = 0
    for submission in ModelSubmission.objects.filter(challenge=challenge, status=ModelSubmission.Status.DONE):
        score, error = score_compute(submission=submission, settings=settings)
        ModelSubmission.objects.filter(pk=submission.pk).update(score=score, score_error=error)
        count += 1
    return count


# --- Model submissions -----------------------------------------------------------------------------
def contract_for(challenge: Challenge, *, dynamic: bool = False) -> dict:
    """The track's contract in `evaluation.tflite.Contract` form. A dynamic-size model may leave the
    spatial dimensions free (None); the main model must have the contract's fixed shape."""

    def spec(shape, dtype):
        shape = list(shape or [])
        if dynamic and len(shape) == 4:
            shape = [shape[0], None, None, shape[3]]
        return {"shape": shape or None, "dtype": dtype}

    contract = {
        "inputs": [spec(challenge.input_shape, challenge.input_dtype)] if challenge.input_shape else [],
        "outputs": [spec(challenge.output_shape, challenge.output_dtype)] if challenge.output_shape else [],
        "input_range": [challenge.value_range_min, challenge.value_range_max],
        "int8_required": challenge.int8_required,
        "allow_dynamic": dynamic,
    }
    return contract


def _phase_message(tl: timeline.Timeline, now: dt.datetime, challenge: Challenge) -> str:
    return phase_refusal(challenge=challenge, tl=tl, phase=timeline.Phase.FINAL, now=now)


def _read_upload(upload, *, limit_mb: int, label: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit_mb * 1024 * 1024:
        raise FinalPhaseRefused(
            [f"The {label} is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb} MB."], code="too_big"
        )
    upload.seek(0)
    data = upload.read(limit_mb * 1024 * 1024 + 1)
    if len(data) > limit_mb * 1024 * 1024:
        raise FinalPhaseRefused([f"The {label} is larger than the limit of {limit_mb} MB."], code="too_big")
    if not data:
        raise FinalPhaseRefused([f"The {label} is empty (0 bytes)."], code="empty")
    return data


def _check_model(data: bytes, contract: dict, *, label: str, sized_by: dict | None = None) -> dict:
    """Intake at the track's shape: dynamic dimensions take `sized_by`'s input shapes (the fixed
    contract; a dynamic-size copy is checked at the size the track measures)."""
    from evaluation.tflite import (
        ModelRejected,
        contract_shape_hints,
        inspect_model,
        shape_messages,
        validate_against_contract,
    )

    try:
        info = inspect_model(data, shape_hints=contract_shape_hints(sized_by or contract))
    except ModelRejected as exc:
        raise FinalPhaseRefused([f"{label}: {exc.message}"], code="bad_model")
    problems = validate_against_contract(info, contract)
    if problems:
        raise FinalPhaseRefused([f"{label}: {p}" for p in problems], code="contract")
    if info.shape_problems:
        raise FinalPhaseRefused([f"{label}: {p}" for p in shape_messages(info)], code="contract")
    return info.as_dict()


def measured_on_for(*, challenge: Challenge, settings: FinalPhaseSettings) -> str:
    """The label of the device the track's runtime is measured on (see `measured_on_label`)."""
    from evaluation.models import Device

    device = Device.objects.filter(slug=settings.device_slug).first()
    if device is None:
        return f"{settings.device_slug} (not registered yet)"
    return measured_on_label(challenge=challenge, device=device)


def measured_on_label(*, challenge: Challenge, device) -> str:
    """The device that measured, as pages and exports show it: a host CPU standing in for the track's
    target ("Host CPU: …, standing in for Apple A11") when the target device itself is not registered."""
    target = (challenge.target_platform or "").split(",")[0].split("/")[0].split("(")[0].strip()
    if device.transport == "local" and target and target.lower() not in device.name.lower():
        return f"{device.name}, standing in for {target}"[:200]
    return device.name


def submissions_counted_against_limit(*, team: Team) -> int:
    return ModelSubmission.objects.filter(team=team).exclude(status=ModelSubmission.Status.FAILED).count()


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
    team = team_for(user, challenge)
    if team is None:
        raise FinalPhaseRefused(
            ["You are not in a team of this challenge: create or join a team first."], code="no_team"
        )
    tl = timeline_for(challenge)
    if not timeline.accepts_submissions(tl, timeline.Phase.FINAL, now):
        raise FinalPhaseRefused([_phase_message(tl, now, challenge)], code="closed")
    settings = final_settings_get(challenge=challenge)
    used = submissions_counted_against_limit(team=team)
    if used >= settings.max_submissions:
        raise FinalPhaseRefused(
            [
                f"Your team has used all {settings.max_submissions} final submissions "
                "(failed ones do not count)."
            ],
            code="limit",
        )
    if settings.requires_dynamic_model and not dynamic_model_file:
        raise FinalPhaseRefused(
            [
                "This track also needs the model with dynamic input size (None in the "
                "spatial dimensions) for the full-resolution fidelity run."
            ],
            code="dynamic",
        )
    data = _read_upload(model_file, limit_mb=settings.max_model_mb, label="model file")
    info = _check_model(data, contract_for(challenge), label="model.tflite")
    dynamic_data = None
    if dynamic_model_file:
        dynamic_data = _read_upload(
            dynamic_model_file, limit_mb=settings.max_model_mb, label="dynamic-size model"
        )
        _check_model(
            dynamic_data,
            contract_for(challenge, dynamic=True),
            label="Dynamic-size model",
            sized_by=contract_for(challenge),
        )
    results_data = None
    if results_file:
        results_data = _read_upload(results_file, limit_mb=challenge.max_upload_mb, label="results file")
        if not str(results_file.name).lower().endswith((".zip", ".npz", ".csv")):
            raise FinalPhaseRefused(["The results file must be a .zip, .npz or .csv."], code="results_type")
    with transaction.atomic():
        # Lock the team so two parallel uploads cannot both pass the limit.
        Team.objects.select_for_update().get(pk=team.pk)
        if submissions_counted_against_limit(team=team) >= settings.max_submissions:
            raise FinalPhaseRefused(
                [f"Your team has used all {settings.max_submissions} final submissions."], code="limit"
            )
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
        submission.model.save("model.tflite", ContentFile(data), save=False)
        if dynamic_data is not None:
            submission.dynamic_model.save("model_dynamic.tflite", ContentFile(dynamic_data), save=False)
        if results_data is not None:
            submission.results.save(
                Path(results_file.name).name[-100:], ContentFile(results_data), save=False
            )
        submission.save()
        # Stored as submitted at the instant the request arrived (the deadline was judged on it).
        ModelSubmission.objects.filter(pk=submission.pk).update(created_at=now)
        submission.created_at = now
        _queue_measurements(submission.pk)  # outbox rows commit with the submission
    return submission


FIDELITY_TASK = "finalphase.run_fidelity"
START_RUNTIME_TASK = "finalphase.start_runtime"


def _queue_measurements(submission_id: int) -> None:
    """Both measurements through the dispatch outbox, in the caller's transaction (`common.dispatch`)."""
    _dispatch_step(submission_id, FIDELITY_TASK)
    _dispatch_step(submission_id, START_RUNTIME_TASK)


def _step_ref(submission_id: int) -> str:
    return f"finalphase.modelsubmission:{submission_id}"


def _dispatch_step(submission_id: int, task: str) -> None:
    from common.dispatch import dispatch

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
    from .fidelity import FidelityError, load_arrays

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
    from .fidelity import FidelityError, compute_metrics, run_model

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
            return
        submission.fidelity_status = ModelSubmission.Step.RUNNING
        submission.fidelity_progress = "Loading the hidden test data"
        submission.fidelity_started_at = started = timezone.now()
        submission.save(update_fields=["fidelity_status", "fidelity_progress", "fidelity_started_at"])

    def _update_mine(submission_id: int, **fields) -> None:
        # Idempotent by attempt: only the current attempt (its start instant) records progress and
        # result; a run that the sweep replaced, or a duplicate message's run, changes nothing.
        ModelSubmission.objects.filter(
            pk=submission_id, fidelity_started_at=started, fidelity_status=ModelSubmission.Step.RUNNING
        ).update(**fields)

    challenge = submission.challenge
    settings = final_settings_get(challenge=challenge)
    keys = [m["key"] for m in challenge.metrics or []]
    field = submission.dynamic_model if submission.dynamic_model else submission.model
    try:
        inputs = _hidden_arrays(challenge, DataFile.Split.TEST_INPUT)
        truth = _hidden_arrays(challenge, DataFile.Split.TEST_GT)
        with field.open("rb") as fh:
            model_bytes = fh.read()
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".tflite") as tmp:
            tmp.write(model_bytes)
            tmp.flush()

            def progress(done: int, total: int) -> None:
                _update_mine(submission_id, fidelity_progress=f"{done} of {total} test inputs")

            outputs = run_model(
                Path(tmp.name),
                inputs,
                threads=1,
                fidelity_shape=settings.fidelity_input_shape or None,
                time_limit_s=settings.fidelity_time_limit_s,
                on_progress=progress,
            )
        metrics = compute_metrics(keys, outputs, truth, data_range=max(challenge.value_range_max, 1.0))
    except FidelityError as exc:
        _update_mine(
            submission_id,
            fidelity_status=ModelSubmission.Step.FAILED,
            fidelity_error=exc.message,
            fidelity_progress="",
        )
    except Exception as exc:  # noqa: BLE001 - any other failure still ends the step with a reason
        logger.exception("fidelity of submission %s failed", submission_id)
        _update_mine(
            submission_id,
            fidelity_status=ModelSubmission.Step.FAILED,
            fidelity_progress="",
            fidelity_error=f"The fidelity run failed unexpectedly ({type(exc).__name__}); the "
            "organisers have been told.",
        )
    else:
        _update_mine(
            submission_id,
            fidelity_status=ModelSubmission.Step.DONE,
            metrics=metrics,
            fidelity_progress=f"{len(outputs)} of {len(outputs)} test inputs",
        )
    model_submission_conclude(submission_id=submission_id)


def model_submission_start_runtime(*, submission_id: int) -> None:
    """Creates the runtime job on the track's target device (Celery, queue `default`)."""
    from evaluation.services import RuntimeJobRefused, runtime_job_create

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

    from conference.mail import mail_enqueue

    recipients = [m.user.email for m in submission.team.memberships.select_related("user") if m.user.email]
    if not recipients:
        return
    challenge = submission.challenge
    url = absolute_url(submission.get_absolute_url())
    if submission.status == ModelSubmission.Status.DONE:
        subject = f"[{challenge.workshop.short_name}] {challenge.title}: your final submission was measured"
        body = (
            "Your team's final-phase model was measured on the hidden test data and on the target device.\n"
            f"See it here: {url}\n"
        )
    else:
        subject = f"[{challenge.workshop.short_name}] {challenge.title}: your final submission failed"
        body = (
            f"Your team's final-phase model could not be measured:\n\n{submission.error}\n\n"
            f"It does not count against your submission limit. Details: {url}\n"
        )
    mail_enqueue(to=recipients, subject=subject, body=body)


# --- Fact sheets and code --------------------------------------------------------------------------
def _factsheet_window(challenge: Challenge, now: dt.datetime) -> None:
    tl = timeline_for(challenge)
    if not timeline.factsheets_open(tl, now):
        closes = tl.at(timeline.K_FACTSHEET_DEADLINE)
        if closes is not None and now >= closes:
            raise FinalPhaseRefused(
                [
                    deadline_passed_message(
                        what="The fact sheet and code deadline",
                        verb="passed",
                        deadline=closes,
                        now=now,
                        workshop=challenge.workshop,
                    )
                ],
                code="closed",
            )
        raise FinalPhaseRefused(
            ["Fact sheets and code are accepted once the final test data is released."], code="closed"
        )


REQUIRED_FACTSHEET = {
    "team_name": "Team name",
    "contact_name": "Contact name",
    "contact_email": "Contact e-mail",
    "method_title": "Method title",
    "method_description": "Method description",
    "architecture_training": "Architecture and training details",
    "training_data_hardware": "Training data and hardware",
}


def factsheet_save(
    *,
    challenge: Challenge,
    user,
    data: dict,
    members: list[dict],
    attachment=None,
    now: dt.datetime | None = None,
) -> FactSheet:
    """Creates or updates the team's fact sheet. `members` is [{"name", "affiliation", "email"}]."""
    now = now or timezone.now()
    team = team_for(user, challenge)
    if team is None:
        raise FinalPhaseRefused(["You are not in a team of this challenge."], code="no_team")
    _factsheet_window(challenge, now)
    errors = [
        f"{label} is required."
        for key, label in REQUIRED_FACTSHEET.items()
        if not str(data.get(key, "")).strip()
    ]
    members = [
        {k: str(m.get(k, "")).strip()[:200] for k in ("name", "affiliation", "email")} for m in members
    ]
    members = [m for m in members if any(m.values())]
    if not members:
        errors.append("List at least one team member.")
    for i, m in enumerate(members, start=1):
        if not m["name"] or not m["affiliation"]:
            errors.append(f"Member {i}: name and affiliation are required.")
    links = [line.strip() for line in str(data.get("links", "")).splitlines() if line.strip()]
    for link in links:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            errors.append(f"“{link[:80]}” is not a web address (http:// or https://).")
    attachment_data = None
    if attachment:
        name = Path(attachment.name).name
        if not name.lower().endswith(ATTACHMENT_TYPES):
            errors.append("The attachment must be a PDF, a .tex file or a .zip of the LaTeX sources.")
        else:
            attachment_data = _read_upload(attachment, limit_mb=FACTSHEET_ATTACHMENT_MB, label="attachment")
            if name.lower().endswith(".pdf"):
                errors += _pdf_problems(attachment_data)
    if errors:
        raise FinalPhaseRefused(errors, code="invalid")
    fields = {key: str(data.get(key, "")).strip() for key in (*REQUIRED_FACTSHEET, "runtime_observations")}
    fields["links"] = "\n".join(links)
    with transaction.atomic():
        sheet = FactSheet.objects.select_for_update().filter(team=team).first() or FactSheet(
            challenge=challenge, team=team
        )
        for key, value in fields.items():
            setattr(sheet, key, value)
        sheet.members = members
        sheet.submitted_by = user
        if attachment_data is not None:
            old = sheet.attachment.name if sheet.attachment else None
            sheet.attachment.save(name[-100:], ContentFile(attachment_data), save=False)
            sheet.attachment_name = name[:255]
            if old:
                transaction.on_commit(lambda: sheet.attachment.storage.delete(old))
        sheet.save()
    return sheet


def _pdf_problems(data: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        if len(PdfReader(io.BytesIO(data)).pages) == 0:
            return ["The attached PDF has no pages."]
    except (PyPdfError, ValueError, OSError):
        return ["The attachment is not a readable PDF."]
    return []


REPO_RE = re.compile(r"^https?://")


def code_submission_save(
    *, challenge: Challenge, user, archive=None, repository_url: str = "", now: dt.datetime | None = None
) -> CodeSubmission:
    """Stores the team's code archive (size-limited) and/or repository URL; a new archive replaces the
    old one."""
    now = now or timezone.now()
    team = team_for(user, challenge)
    if team is None:
        raise FinalPhaseRefused(["You are not in a team of this challenge."], code="no_team")
    _factsheet_window(challenge, now)
    repository_url = (repository_url or "").strip()
    existing = CodeSubmission.objects.filter(team=team).first()
    if not archive and not repository_url and not (existing and existing.archive):
        raise FinalPhaseRefused(["Upload a code archive or give the URL of a repository."], code="empty")
    if repository_url:
        try:
            URLValidator(schemes=["http", "https"])(repository_url)
        except ValidationError:
            raise FinalPhaseRefused(
                [f"“{repository_url[:80]}” is not a web address (http:// or https://)."], code="url"
            )
    data = None
    if archive:
        name = Path(archive.name).name
        if not name.lower().endswith(CODE_TYPES):
            raise FinalPhaseRefused(
                ["The code archive must be a .zip, .tar, .tar.gz, .tgz or .7z file."], code="type"
            )
        settings = final_settings_get(challenge=challenge)
        data = _read_upload(archive, limit_mb=settings.max_code_mb, label="code archive")
    with transaction.atomic():
        code = CodeSubmission.objects.select_for_update().filter(team=team).first() or CodeSubmission(
            challenge=challenge, team=team
        )
        code.repository_url = repository_url
        code.submitted_by = user
        if data is not None:
            old = code.archive.name if code.archive else None
            code.archive.save(name[-100:], ContentFile(data), save=False)
            code.archive_name = name[:255]
            code.archive_size = len(data)
            if old:
                transaction.on_commit(lambda: code.archive.storage.delete(old))
        code.save()
    return code


# --- The sweep ----------------------------------------------------------------------------------------


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
    from common.dispatch import dispatch_history
    from evaluation.models import RuntimeJob

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
            job = RuntimeJob.objects.filter(pk=sub.runtime_job_id).select_related("device").first()
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
