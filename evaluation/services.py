"""Writes of evaluation: device registration and heartbeats, runtime jobs from upload to result.

A job's life: `runtime_job_create` (checks the device, accelerator, options, rate limit and the model in
the sandbox, stores the model privately, picks the device or an online twin) → after commit the job is
sent to the device's queue `device.<slug>` → the device worker calls `runtime_job_claim` (which returns
a fresh signed model URL and takes the device's lease: one job at a time per device, whatever its workers
do) → `runtime_job_report` records the result once and frees the lease; a redelivered or late report
changes nothing. `runtime_job_finished` (evaluation.signals) fires once, after commit, when a job ends.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.dispatch import dispatch, dispatch_history, ref_for

from . import stats
from .models import Device, DeviceHost, RuntimeJob
from .runners.base import Accelerator, DeviceInfo, RunOptions
from .selectors import (
    device_get,
    device_pick,
    device_takes_jobs,
    max_model_bytes,
    offline_after,
    too_big_message,
)
from .signals import runtime_job_finished
from .sysfs import hottest
from .tflite import (
    Contract,
    ModelRejected,
    ShapeError,
    contract_shape_hints,
    inspect_model,
    parse_shapes,
    shape_messages,
    validate_against_contract,
)
from .tokens import device_host_name_from_token, model_download_path

logger = logging.getLogger(__name__)

RUN_TASK = "evaluation.run_on_device"

OPTION_LIMITS = {
    "threads": (1, 8),
    "warmup_runs": (1, 100),
    "timed_runs": (1, 1000),
    "repetitions": (1, 10),
}


class RuntimeJobRefused(ValidationError):
    """The job cannot be created; `messages` are for the participant (one per problem)."""


class RateLimited(RuntimeJobRefused):
    pass


class DeviceOperatorRefused(ValidationError):
    """A pause/drain/resume that cannot be done; `messages` say why."""


# How soon a worker asks again for a job its paused or draining device holds back (seconds).
PAUSED_RETRY_S = 10.0
ACTIVE_STATES = (RuntimeJob.State.QUEUED, RuntimeJob.State.RUNNING)


# --- Devices ---------------------------------------------------------------------------------------


def device_host_get_or_create(*, name: str) -> DeviceHost:
    host, _ = DeviceHost.objects.get_or_create(name=name)
    return host


def device_host_from_token(*, token: str) -> DeviceHost | None:
    """The enabled host whose signed token this is (created on first use; disable it to revoke)."""
    name = device_host_name_from_token(token or "")
    if not name:
        return None
    host = device_host_get_or_create(name=name)
    return host if host.enabled else None


class DeviceOwnedByAnotherHost(ValidationError):
    """A host registered a device slug that another host drives; `messages` name the conflict."""


def _device_owner_conflict(*, host: DeviceHost, slug: str) -> str | None:
    """Why `host` may not register `slug`, or None. A device keeps the host that drives it: only that
    host registers it again. A device with no host yet (made in the admin, or whose host was deleted)
    may be claimed by the first host that registers it."""
    owner = (
        Device.objects.filter(slug=slug)
        .exclude(device_host__isnull=True)
        .exclude(device_host=host)
        .values_list("device_host__name", flat=True)
        .first()
    )
    if owner is None:
        return None
    return (
        f"The device “{slug}” is driven by the device host “{owner}”, not by “{host.name}”; "
        "nothing was registered. Give this device another slug in the host's configuration, or ask "
        "the site's administrators to move the device to this host."
    )


def devices_register(*, host: DeviceHost, infos: list[DeviceInfo | dict], address: str = "") -> list[Device]:
    """Registers all of a host's devices or none: raises `DeviceOwnedByAnotherHost` (every conflict
    named) when any slug belongs to another host, before anything is written."""
    with transaction.atomic():
        slugs = [(asdict(i) if isinstance(i, DeviceInfo) else dict(i))["slug"] for i in infos]
        list(Device.objects.select_for_update().filter(slug__in=slugs))
        problems = [m for m in (_device_owner_conflict(host=host, slug=s) for s in slugs) if m]
        if problems:
            raise DeviceOwnedByAnotherHost(problems, code="device_owned_by_another_host")
        return [device_register(host=host, info=info, address=address) for info in infos]


def device_register(*, host: DeviceHost, info: DeviceInfo | dict, address: str = "") -> Device:
    """Creates or updates a device from what its runner found (`DeviceInfo`); it comes online. Raises
    `DeviceOwnedByAnotherHost` when another host drives a device with this slug (nothing changes)."""
    data = asdict(info) if isinstance(info, DeviceInfo) else dict(info)
    problem = _device_owner_conflict(host=host, slug=data["slug"])
    if problem:
        raise DeviceOwnedByAnotherHost([problem], code="device_owned_by_another_host")
    accelerators = [a for a in data.get("accelerators", []) if a in Accelerator.ALL]
    details = dict(data.get("details") or {})
    now = timezone.now()
    device, _ = Device.objects.update_or_create(
        slug=data["slug"],
        defaults={
            "name": data.get("name") or data["slug"],
            "platform": data.get("platform") or "linux",
            "soc": data.get("soc", ""),
            "transport": data.get("transport") or "local",
            "accelerators": accelerators,
            "host": host.name,
            "device_host": host,
            "details": details,
            "last_heartbeat": now,
        },
        create_defaults={
            "name": data.get("name") or data["slug"],
            "platform": data.get("platform") or "linux",
            "soc": data.get("soc", ""),
            "transport": data.get("transport") or "local",
            "accelerators": accelerators,
            "host": host.name,
            "device_host": host,
            "details": details,
            "last_heartbeat": now,
            "status": Device.Status.ONLINE,
            "group": details.get("group", ""),
        },
    )
    if device.status == Device.Status.OFFLINE:
        device.status = Device.Status.ONLINE
        device.save(update_fields=["status"])
    DeviceHost.objects.filter(pk=host.pk).update(last_seen=now, address=address[:200])
    return device


def device_heartbeat(*, host: DeviceHost, slugs: list[str], address: str = "") -> int:
    """Marks the host's devices as seen now; offline ones come back online (busy ones stay busy)."""
    now = timezone.now()
    devices = Device.objects.filter(device_host=host, slug__in=slugs)
    devices.update(last_heartbeat=now)
    devices.filter(status=Device.Status.OFFLINE).update(status=Device.Status.ONLINE)
    DeviceHost.objects.filter(pk=host.pk).update(last_seen=now, address=address[:200])
    return devices.count()


def devices_mark_offline(*, now: dt.datetime | None = None) -> int:
    """Devices that missed their heartbeats for `EVALUATION_OFFLINE_AFTER_S` seconds go offline."""
    cutoff = (now or timezone.now()) - offline_after()
    stale = Device.objects.exclude(status=Device.Status.OFFLINE).filter(last_heartbeat__lt=cutoff)
    count = stale.update(status=Device.Status.OFFLINE)
    # "busy" with nothing running (its worker died mid-job): available again.
    Device.objects.filter(status=Device.Status.BUSY).exclude(jobs__state=RuntimeJob.State.RUNNING).update(
        status=Device.Status.ONLINE
    )
    return count


# --- Runtime jobs ----------------------------------------------------------------------------------


def runtime_job_options(options: dict | None) -> RunOptions:
    """Checks the participant's options against the limits; unknown keys are ignored."""
    options = dict(options or {})
    errors = []
    values = {}
    for key, (low, high) in OPTION_LIMITS.items():
        if options.get(key) in (None, ""):
            continue
        try:
            value = int(options[key])
        except (TypeError, ValueError):
            errors.append(f"{key.replace('_', ' ').capitalize()} must be a whole number.")
            continue
        if not low <= value <= high:
            errors.append(f"{key.replace('_', ' ').capitalize()} must be between {low} and {high}.")
        values[key] = value
    typed_shapes = {}
    if str(options.get("input_shape") or "").strip():
        try:
            typed_shapes = parse_shapes(str(options["input_shape"]))
        except ShapeError as exc:
            errors.append(f"Input shape: {exc.message}")
    if errors:
        raise RuntimeJobRefused(errors)
    run = RunOptions(**values)
    run.time_limit_s = float(settings.EVALUATION_JOB_TIME_LIMIT_S)
    for key in ("input_shapes", "input_range", "require_full_delegation"):
        if options.get(key) is not None:
            setattr(run, key, options[key])
    # Every job is profiled per operator unless asked not to (the benchmark measures the cost).
    run.profile = str(options.get("profile", True)).lower() not in ("false", "0", "off", "no")
    if typed_shapes:
        run.input_shapes = typed_shapes
    return run


def runtime_job_check_rate(*, owner) -> None:
    """At most EVALUATION_RATE_LIMIT jobs per user per hour, and EVALUATION_MAX_ACTIVE_JOBS unfinished."""
    if owner is None:
        return
    per_hour = int(settings.EVALUATION_RATE_LIMIT)
    active_limit = int(settings.EVALUATION_MAX_ACTIVE_JOBS)
    now = timezone.now()
    recent = list(
        RuntimeJob.objects.filter(owner=owner, purpose="check", created_at__gte=now - dt.timedelta(hours=1))
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= per_hour:
        wait = recent[len(recent) - per_hour] + dt.timedelta(hours=1) - now
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        raise RateLimited(
            [
                f"You have started {len(recent)} runtime checks in the last hour; the limit is "
                f"{per_hour} per hour. You can start the next one in {minutes} minute"
                f"{'s' if minutes != 1 else ''}."
            ],
            code="rate_limited",
        )
    active = RuntimeJob.objects.filter(
        owner=owner, purpose="check", state__in=[RuntimeJob.State.QUEUED, RuntimeJob.State.RUNNING]
    ).count()
    if active >= active_limit:
        raise RateLimited(
            [
                f"You already have {active} runtime checks queued or running; the limit is "
                f"{active_limit}. Wait for one to finish."
            ],
            code="rate_limited",
        )


def runtime_job_create(
    *,
    owner,
    model_file,
    device: Device | str,
    accelerator: str,
    options: dict | None = None,
    contract: Contract | dict | None = None,
    purpose: str = "check",
    model_name: str | None = None,
    check_rate: bool = True,
) -> RuntimeJob:
    """Validates everything, stores the model privately and queues the job (sent after commit).

    `model_file` is a Django File/UploadedFile or bytes. Raises `RuntimeJobRefused` (or `RateLimited`)
    whose `.messages` say what to fix; nothing is stored then."""
    device = _job_device(device=device, accelerator=accelerator)
    run_options = runtime_job_options(options)
    run_options.accelerator = accelerator  # the stored options say what ran (not RunOptions' default)
    if check_rate and purpose == "check":
        runtime_job_check_rate(owner=owner)
    _job_check_operator(device_pick(device=device, accelerator=accelerator), purpose=purpose)
    data, name = _job_model_bytes(model_file, model_name=model_name)
    contract = Contract.from_dict(contract) if isinstance(contract, dict) else contract
    if contract is not None and contract.input_range and run_options.input_range is None:
        run_options.input_range = list(contract.input_range)  # generated inputs in the track's range
    info = _job_intake(data, run_options=run_options, contract=contract, accelerator=accelerator)
    target = device_pick(device=device, accelerator=accelerator)  # again: time passed during intake
    _job_check_operator(target, purpose=purpose)
    with transaction.atomic():
        if check_rate and purpose == "check" and owner is not None:
            # The check that counts, under a lock on the user's row: concurrent uploads of one user are
            # serialised here, so they cannot pass the limits together (the check above only refuses
            # early, before the model is read).
            # (get_user_model(), not type(owner): a view passes request.user, a SimpleLazyObject.)
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
            runtime_job_check_rate(owner=owner)
        job = RuntimeJob(
            owner=owner,
            purpose=purpose,
            model_name=str(name).rsplit("/", 1)[-1][:200],
            model_size=len(data),
            model_info=info.as_dict(),
            device=target,
            requested_device=device if target != device else None,
            accelerator=accelerator,
            options=_options_json(run_options),
            input_shapes=[list(s) for s in info.input_shapes_run],
        )
        job.model_file.save("model.tflite", ContentFile(data), save=False)
        job.save()
        runtime_job_send(job_id=job.pk)  # the outbox row commits with the job; sent after commit
    return job


def _job_check_operator(target: Device, *, purpose: str) -> None:
    """A participant's check is refused while its device (and every twin) is paused or draining; a job
    another app asks for (a final-phase measurement) is queued and waits for the device."""
    if purpose == "check" and not device_takes_jobs(target):
        raise RuntimeJobRefused(
            [
                f"{target.name} is {target.get_operator_state_display().lower()} by its operator and takes "
                "no new jobs right now. Choose another device, or try again later."
            ],
            code="device_paused",
        )


def _job_device(*, device: Device | str, accelerator: str) -> Device:
    """The device asked for (a slug or a row), enabled and offering the accelerator."""
    if isinstance(device, str):
        found = device_get(slug=device)
        if found is None:
            raise RuntimeJobRefused(
                [f"There is no device “{device}”. Choose one from the device list."], code="unknown_device"
            )
        device = found
    elif not device.enabled:
        raise RuntimeJobRefused([f"The device “{device.name}” is not taking jobs."], code="unknown_device")
    if accelerator not in device.accelerators:
        offered = ", ".join(device.accelerator_labels()) or "none"
        label = Accelerator.LABELS.get(accelerator, accelerator)
        raise RuntimeJobRefused(
            [f"{device.name} has no {label} accelerator; it offers {offered}."], code="unknown_accelerator"
        )
    return device


def _job_model_bytes(model_file, *, model_name: str | None) -> tuple[bytes, str]:
    """(bytes, file name) of the upload or bytes given, refused above `EVALUATION_MAX_MODEL_BYTES`."""
    if isinstance(model_file, bytes | bytearray):
        data = bytes(model_file)
        name = model_name or "model.tflite"
    else:
        size = getattr(model_file, "size", None)
        if size is not None and size > max_model_bytes():
            raise RuntimeJobRefused([too_big_message(size)], code="too_big")
        model_file.seek(0)
        data = model_file.read()
        name = model_name or getattr(model_file, "name", None) or "model.tflite"
    if len(data) > max_model_bytes():
        raise RuntimeJobRefused([too_big_message(len(data))], code="too_big")
    return data, name


def _job_intake(data: bytes, *, run_options: RunOptions, contract: Contract | None, accelerator: str):
    """The model inspected in the sandbox as the job will run it (its shapes, its kernels) and checked
    against the contract; settles `run_options.input_shapes`. Returns the `ModelInfo`."""
    try:
        info = inspect_model(
            data,
            input_shapes=run_options.input_shapes or None,
            shape_hints=contract_shape_hints(contract),
            accelerator=accelerator,
            input_range=run_options.input_range,
            max_tensor_bytes=int(settings.EVALUATION_MAX_TENSOR_BYTES),
        )
    except ModelRejected as exc:
        raise RuntimeJobRefused([exc.message], code="bad_model") from None
    problems = validate_against_contract(info, contract)
    if problems:
        raise RuntimeJobRefused(problems, code="contract")
    if info.shape_problems:
        where = "in “Input shape” (API: input_shape)" if contract is None else ""
        raise RuntimeJobRefused(shape_messages(info, where=where), code="shape")
    # Every dynamic input runs at the shape intake settled (a dynamic batch at 1, free dimensions from
    # the shape typed or the track's contract); the job stores the shape of every input.
    run_options.input_shapes = {
        i: list(shape)
        for i, (tensor, shape) in enumerate(zip(info.inputs, info.input_shapes_run, strict=False))
        if shape and (tensor.is_dynamic or shape != tensor.shape)
    }
    return info


def _options_json(options: RunOptions) -> dict:
    data = asdict(options)
    data["input_shapes"] = {str(k): [int(d) for d in v] for k, v in (options.input_shapes or {}).items()}
    return data


def runtime_job_send(*, job_id: int) -> None:
    """Puts the job on its device's queue through the dispatch outbox (`common.dispatch`): call it in the
    transaction that writes the job; the message is sent after commit, or by the dispatcher once the
    broker answers. The payload is plain data: the worker needs no database."""
    job = RuntimeJob.objects.select_related("device").get(pk=job_id)
    if job.finished:
        return
    payload = {
        "job": str(job.uid),
        "device": job.device.slug,
        "accelerator": job.accelerator,
        "options": job.options,
    }
    dispatch(RUN_TASK, args=[payload], queue=job.device.queue, ref=ref_for(job))


def device_lease_seconds() -> float:
    """How long a device's lease lasts without renewal (`EVALUATION_DEVICE_LEASE_S`, 60 s); the worker
    running the job renews it every third of that."""
    return float(settings.EVALUATION_DEVICE_LEASE_S)


def _lease_held(device: Device, *, now: dt.datetime) -> bool:
    """Whether another attempt still holds the device (call with the device row locked): a lease is
    free when nobody took it, it expired, or its job is no longer running (finished, or put back in the
    queue by a release or the stuck-job sweep)."""
    if device.lease_job_id is None or device.lease_expires_at is None or device.lease_expires_at <= now:
        return False
    return RuntimeJob.objects.filter(pk=device.lease_job_id, state=RuntimeJob.State.RUNNING).exists()


def _lease_release(device_id: int, job: RuntimeJob) -> None:
    """Frees the device if this job holds it (inside the caller's transaction)."""
    Device.objects.filter(pk=device_id, lease_job=job).update(
        lease_job=None, lease_attempt=None, lease_holder="", lease_expires_at=None
    )


def runtime_job_claim(
    *,
    uid,
    host: DeviceHost,
    device_slug: str,
    worker: str = "",
    holder: str = "",
    dead_holder: str = "",
) -> dict:
    """A device is about to run the job: returns {"run": bool, "attempt", "model_url", "lease_s",
    "reason"}, or {"run": False, "busy": True, "retry_in", "holder"} while another attempt holds the
    device's lease.

    State machine of the lease (`Device.lease_*`, the device row locked): free → held by (job, attempt)
    here → free again at the report or release, or when it expires unrenewed (a dead worker), or when its
    job finished. A claim while it is held is refused, even for the same job (a duplicate message or a
    redelivery must not run beside the attempt still running): the worker waits and claims again. Only
    a worker on the same machine that has seen the holder process gone (`dead_holder`, equal to the
    lease's holder) may take it over before it expires. A finished job (a redelivery after its result was
    recorded) is not run again; a job tried EVALUATION_MAX_ATTEMPTS times fails."""
    now = timezone.now()
    with transaction.atomic():
        job = RuntimeJob.objects.select_for_update().filter(uid=uid).first()
        if job is None:
            return {"run": False, "reason": "unknown job"}
        if job.finished:
            return {"run": False, "reason": f"already {job.state}"}
        device = Device.objects.select_for_update().filter(slug=device_slug, device_host=host).first()
        if device is None:
            return {"run": False, "reason": "device not registered by this host"}
        if job.device_id != device.pk:  # moved to a twin while its device was paused
            return {"run": False, "reason": "the job moved to another device"}
        paused = _operator_refusal(device, job=job, now=now)
        if paused is not None:
            return paused
        if _lease_held(device, now=now):
            if not (dead_holder and dead_holder == device.lease_holder):
                return {
                    "run": False,
                    "busy": True,
                    "reason": "the device is running another job",
                    "holder": device.lease_holder,
                    "retry_in": max(0.0, (device.lease_expires_at - now).total_seconds()),
                }
            logger.warning(
                "lease of %s taken over from dead holder %s (job %s)", device.slug, dead_holder, uid
            )
        if job.attempts >= int(settings.EVALUATION_MAX_ATTEMPTS):
            _job_fail(
                job,
                f"The device stopped {job.attempts} times while running this model; it was not "
                "measured. Try again, or try another device.",
            )
            return {"run": False, "reason": "too many attempts"}
        _job_start(job, device=device, worker=worker, now=now)
        lease_s = _lease_take(device, job=job, holder=holder or worker, now=now)
    return {
        "run": True,
        "attempt": job.attempts,
        "model_url": model_download_path(job),
        "options": job.options,
        "lease_s": lease_s,
    }


def _operator_refusal(device: Device, *, job: RuntimeJob, now: dt.datetime) -> dict | None:
    """The claim's answer when the device's operator holds the job back (device row locked): a paused
    device runs nothing; a draining one runs the jobs queued before the drain began and pauses itself once
    they are done. The worker retries later (`retry_in`): the job waits, it is never dropped."""
    state = device.operator_state
    if state == Device.OperatorState.ACTIVE:
        return None
    if state == Device.OperatorState.DRAINING:
        if _drain_eligible(device, job):
            return None
        _drain_settle(device, now=now)
    return {
        "run": False,
        "paused": True,
        "busy": False,
        "reason": f"the device is {device.get_operator_state_display().lower()} by its operator",
        "retry_in": PAUSED_RETRY_S,
    }


def _drain_eligible(device: Device, job: RuntimeJob) -> bool:
    """Whether a draining device still runs this job: it was queued before the drain began."""
    began = device.operator_state_changed_at
    return began is None or job.created_at <= began


def _drain_settle(device: Device, *, now: dt.datetime | None = None) -> bool:
    """A draining device with none of its pre-drain jobs left queued or running becomes paused (call with
    the device row locked, or on a fresh row inside a transaction). Returns whether it paused."""
    if device.operator_state != Device.OperatorState.DRAINING:
        return False
    jobs = RuntimeJob.objects.filter(device_id=device.pk, state__in=ACTIVE_STATES)
    if device.operator_state_changed_at is not None:
        jobs = jobs.filter(created_at__lte=device.operator_state_changed_at)
    if jobs.exists():
        return False
    device.operator_state = Device.OperatorState.PAUSED
    device.operator_state_changed_at = now or timezone.now()
    device.save(update_fields=["operator_state", "operator_state_changed_at"])
    logger.info("device %s drained its queue and is now paused", device.slug)
    return True


def _drain_settle_by_pk(device_id: int) -> None:
    """After a job on the device ended (inside the caller's transaction)."""
    device = (
        Device.objects.select_for_update()
        .filter(pk=device_id, operator_state=Device.OperatorState.DRAINING)
        .first()
    )
    if device is not None:
        _drain_settle(device)


def device_operator_state_set(*, device: Device | str, state: str) -> Device:
    """The operator pauses, drains or resumes a device (permission checked by the caller with
    `evaluation.operate_device`). State machine: active → paused | draining; draining → paused (by
    itself once the jobs queued before the drain are done, or at once by the operator); paused |
    draining → active (resume: the waiting jobs are claimed again by the device's worker, which retries
    a held-back claim every PAUSED_RETRY_S). Raises `DeviceOperatorRefused` for an unknown state or
    device."""
    if state not in Device.OperatorState.values:
        raise DeviceOperatorRefused(
            [f"“{state}” is not a device state; use one of {', '.join(Device.OperatorState.values)}."],
            code="bad_state",
        )
    slug = device if isinstance(device, str) else device.slug
    now = timezone.now()
    with transaction.atomic():
        locked = Device.objects.select_for_update().filter(slug=slug).first()
        if locked is None:
            raise DeviceOperatorRefused([f"There is no device “{slug}”."], code="unknown_device")
        if locked.operator_state != state:
            locked.operator_state = state
            locked.operator_state_changed_at = now
            locked.save(update_fields=["operator_state", "operator_state_changed_at"])
            logger.info("device %s is now %s", locked.slug, state)
        if state == Device.OperatorState.DRAINING:
            _drain_settle(locked, now=now)
    return locked


def _job_start(job: RuntimeJob, *, device: Device, worker: str, now: dt.datetime) -> None:
    """The job runs now on `device` (a twin the host redirected it to is recorded), one more attempt."""
    if job.device_id != device.pk:
        # Redirected to a twin by the host (same group): record where it really ran.
        job.device = device
    job.state = RuntimeJob.State.RUNNING
    job.attempts = F("attempts") + 1
    job.started_at = now
    job.worker = worker[:200]
    job.save(update_fields=["device", "state", "attempts", "started_at", "worker"])
    job.refresh_from_db(fields=["attempts"])


def _lease_take(device: Device, *, job: RuntimeJob, holder: str, now: dt.datetime) -> float:
    """The device's lease for this attempt of the job (the device row is locked); returns its length."""
    lease_s = device_lease_seconds()
    device.lease_job = job
    device.lease_attempt = job.attempts
    device.lease_holder = holder[:300]
    device.lease_expires_at = now + dt.timedelta(seconds=lease_s)
    device.status = Device.Status.BUSY
    device.last_heartbeat = now
    device.save(
        update_fields=[
            "lease_job",
            "lease_attempt",
            "lease_holder",
            "lease_expires_at",
            "status",
            "last_heartbeat",
        ]
    )
    return lease_s


def runtime_job_lease_renew(*, uid, host: DeviceHost, device_slug: str, attempt: int) -> bool:
    """The worker running (job, attempt) says it is alive: its lease on the device lasts another
    `EVALUATION_DEVICE_LEASE_S`. False when that attempt no longer holds the lease (taken over, job
    finished): the worker's result will then be ignored."""
    now = timezone.now()
    with transaction.atomic():
        job = RuntimeJob.objects.filter(uid=uid).first()
        if job is None or job.finished:
            return False
        renewed = Device.objects.filter(
            slug=device_slug, device_host=host, lease_job=job, lease_attempt=attempt
        ).update(lease_expires_at=now + dt.timedelta(seconds=device_lease_seconds()), last_heartbeat=now)
    return bool(renewed)


RESULT_FIELDS = [
    "init_ms",
    "first_inference_ms",
    "mean_ms",
    "median_ms",
    "std_ms",
    "min_ms",
    "max_ms",
    "peak_memory_mb",
    "fully_delegated",
    "power_w",
]


def runtime_job_report(
    *,
    uid,
    host: DeviceHost,
    attempt: int | None = None,
    result: dict | None = None,
    error: str = "",
    log: str = "",
) -> bool:
    """Records a result (or the error message) once. Returns False when nothing changed: the job had
    already finished, or the report comes from an older attempt than the current one."""
    with transaction.atomic():
        job = RuntimeJob.objects.select_for_update().select_related("device").filter(uid=uid).first()
        if job is None or job.finished:
            return False
        if job.device.device_host_id != host.pk:
            return False
        if attempt is not None and attempt != job.attempts:
            return False
        now = timezone.now()
        if result is not None:
            for name in RESULT_FIELDS:
                value = result.get(name)
                setattr(job, name, value)
            job.runs = result.get("count")
            _record_depth(job, result)
            job.runtime_version = str(result.get("runtime_version") or "")[:200]
            job.raw_log = str(result.get("raw_log") or log)[:200000]
            job.state = RuntimeJob.State.DONE
            job.error_message = ""
        else:
            job.state = RuntimeJob.State.FAILED
            job.error_message = error or "The job failed."
            job.raw_log = (log or "")[:200000]
        job.finished_at = now
        job.save()
        _lease_release(job.device_id, job)
        Device.objects.filter(pk=job.device_id, status=Device.Status.BUSY).update(
            status=Device.Status.ONLINE, last_heartbeat=now
        )
        _drain_settle_by_pk(job.device_id)
        succeeded = job.state == RuntimeJob.State.DONE
        transaction.on_commit(
            lambda: runtime_job_finished.send(sender=RuntimeJob, job=job, succeeded=succeeded)
        )
    return True


MAX_PROFILE_NODES = 5000


def _record_depth(job: RuntimeJob, result: dict) -> None:
    """The measurement's depth on the job: distribution and 95% CI of the mean over every timed run (or
    pooled from the repetitions' summaries when a tool reports no single runs), throttling, the
    per-operator profile, power and the reproducibility record."""
    timings = [float(t) for t in result.get("timings_ms") or [] if t is not None]
    repetitions = [
        {k: v for k, v in dict(r).items() if k != "timings_ms"}
        for r in (result.get("repetitions") or [])
        if isinstance(r, dict)
    ]
    for repetition in repetitions:
        repetition["hottest_before_c"] = hottest(repetition.get("thermal_before"))
        repetition["hottest_after_c"] = hottest(repetition.get("thermal_after"))
    summary = stats.summarize(timings) if timings else stats.pooled(repetitions)
    if summary:
        job.ci95_low_ms, job.ci95_high_ms = summary.get("ci_low"), summary.get("ci_high")
    job.p5_ms = _number(result.get("p5_ms"), (summary or {}).get("p5"))
    job.p95_ms = _number(result.get("p95_ms"), (summary or {}).get("p95"))
    job.repetitions = repetitions
    job.throttled = stats.throttling(repetitions)
    profile = result.get("profile") if isinstance(result.get("profile"), dict) else {}
    if profile.get("nodes"):
        profile = dict(profile, nodes=profile["nodes"][:MAX_PROFILE_NODES])
    job.profile = profile
    power = result.get("power") if isinstance(result.get("power"), dict) else {}
    job.power = power
    job.energy_mj = _number(result.get("energy_mj"), power.get("energy_mj"))
    record = dict(result.get("reproducibility") or {})
    record.setdefault("thermal_source", result.get("thermal_source") or "")
    job.reproducibility = record


def _number(*values) -> float | None:
    for value in values:
        if isinstance(value, int | float) and value == value:  # not NaN
            return float(value)
    return None


def runtime_job_release(*, uid, host: DeviceHost, reason: str = "", attempt: int | None = None) -> bool:
    """The device went away mid-run (DeviceUnavailable): the job goes back to queued, to be retried, and
    the device's lease is freed. Only the current attempt may give back a running job (`attempt`); a
    release without one (a host that does not drive the device) changes nothing while the job runs."""
    with transaction.atomic():
        job = RuntimeJob.objects.select_for_update().select_related("device").filter(uid=uid).first()
        if job is None or job.finished or job.device.device_host_id != host.pk:
            return False
        if job.state == RuntimeJob.State.RUNNING and attempt != job.attempts:
            return False
        job.state = RuntimeJob.State.QUEUED
        job.save(update_fields=["state"])
        _lease_release(job.device_id, job)
        Device.objects.filter(pk=job.device_id).update(status=Device.Status.OFFLINE)
    logger.warning("job %s released by %s: %s", uid, host.name, reason)
    return True


def _job_fail(job: RuntimeJob, message: str) -> None:
    """Inside the caller's transaction, with the job locked."""
    job.state = RuntimeJob.State.FAILED
    job.error_message = message
    job.finished_at = timezone.now()
    job.save()
    Device.objects.filter(pk=job.device_id, status=Device.Status.BUSY).update(status=Device.Status.ONLINE)
    _drain_settle_by_pk(job.device_id)
    transaction.on_commit(lambda: runtime_job_finished.send(sender=RuntimeJob, job=job, succeeded=False))


def runtime_jobs_recover_stuck(*, now: dt.datetime | None = None) -> dict:
    """The sweep (beat, every BEAT_SWEEP_EVERY_S) that gives every unfinished job a way out.

    - Running beyond its time limit + EVALUATION_STUCK_GRACE_S: its device worker vanished as a whole
      (a killed worker *process* is redelivered at once; a killed host only after the broker's visibility
      timeout). It goes back on its device's queue, or fails after EVALUATION_MAX_ATTEMPTS claims.
    - Queued, its last message sent more than EVALUATION_QUEUED_RESEND_S ago while its device runs
      nothing (the message was lost: a broker restart, a purged queue): sent again, and after
      EVALUATION_MAX_ATTEMPTS messages failed with a reason, so it stops counting against the owner's
      active jobs. A job whose message still waits in the outbox (broker down) belongs to the dispatcher.
    - Queued on a device its operator paused, for RUNTIME_PAUSED_MAX_WAIT_S: moved to an active online
      twin, else failed with a message that says the operator paused the device.
    A late original message then finds the job claimed or finished: nothing runs or counts twice."""
    now = now or timezone.now()
    limit_attempts = int(settings.EVALUATION_MAX_ATTEMPTS)
    counts = {"requeued": 0, "failed": 0}
    _recover_running(now=now, limit_attempts=limit_attempts, counts=counts)
    _recover_queued(now=now, limit_attempts=limit_attempts, counts=counts)
    return counts


def _recover_running(*, now: dt.datetime, limit_attempts: int, counts: dict) -> None:
    """Running past time limit + grace: back on the device's queue, or failed after the last attempt."""
    grace = float(settings.EVALUATION_STUCK_GRACE_S)
    for job in RuntimeJob.objects.filter(state=RuntimeJob.State.RUNNING, started_at__isnull=False):
        limit = float(job.options.get("time_limit_s") or 300)
        if job.started_at + dt.timedelta(seconds=limit + grace) > now:
            continue
        with transaction.atomic():
            locked = RuntimeJob.objects.select_for_update().get(pk=job.pk)
            if locked.state != RuntimeJob.State.RUNNING or locked.started_at != job.started_at:
                continue
            Device.objects.filter(pk=locked.device_id, status=Device.Status.BUSY).update(
                status=Device.Status.ONLINE
            )
            if locked.attempts >= limit_attempts:
                _job_fail(
                    locked,
                    "The device stopped answering while running this model; it was not measured. "
                    "Try again, or try another device.",
                )
                counts["failed"] += 1
                continue
            locked.state = RuntimeJob.State.QUEUED
            locked.save(update_fields=["state"])
            runtime_job_send(job_id=locked.pk)
            counts["requeued"] += 1


def _paused_wait_text(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 1:
        return f"{hours:g} hour{'' if hours == 1 else 's'}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _recover_paused(job: RuntimeJob, *, now: dt.datetime, counts: dict) -> None:
    """A job queued on a paused device waits RUNTIME_PAUSED_MAX_WAIT_S (from the pause, or from its
    creation if later); then it moves to an active online twin, or fails with the operator's reason (a
    final-phase submission shows that message as its runtime error)."""
    max_wait = float(settings.RUNTIME_PAUSED_MAX_WAIT_S)
    paused_at = job.device.operator_state_changed_at or job.created_at
    if max(paused_at, job.created_at) + dt.timedelta(seconds=max_wait) > now:
        return  # held back by the device's operator: its worker asks again, nothing is lost
    with transaction.atomic():
        locked = RuntimeJob.objects.select_for_update().select_related("device").get(pk=job.pk)
        device = Device.objects.select_for_update().get(pk=locked.device_id)
        if locked.state != RuntimeJob.State.QUEUED or device.operator_state != Device.OperatorState.PAUSED:
            return
        twin = device_pick(device=device, accelerator=locked.accelerator)
        if twin.pk != device.pk:
            locked.device = twin
            locked.save(update_fields=["device"])
            runtime_job_send(job_id=locked.pk)  # the old device's worker now finds it moved and drops it
            logger.info("job %s moved from paused %s to its twin %s", locked.uid, device.slug, twin.slug)
            counts["requeued"] += 1
            return
        _job_fail(
            locked,
            f"{device.name} was paused by its operator and did not measure this model within "
            f"{_paused_wait_text(max_wait)}, and no twin device could take it. Submit it again once the "
            "device is back (the device lab shows its state), or ask the organisers.",
        )
        counts["failed"] += 1


def _recover_queued(*, now: dt.datetime, limit_attempts: int, counts: dict) -> None:
    """Queued, its message lost while its device idles: sent again, or failed after the last message.
    Queued on a paused device: moved or failed after RUNTIME_PAUSED_MAX_WAIT_S (`_recover_paused`)."""
    resend_after = dt.timedelta(seconds=float(settings.EVALUATION_QUEUED_RESEND_S))
    for job in RuntimeJob.objects.filter(state=RuntimeJob.State.QUEUED).select_related("device"):
        if job.device.operator_state == Device.OperatorState.PAUSED:
            _recover_paused(job, now=now, counts=counts)
            continue
        history = dispatch_history(ref_for(job), task=RUN_TASK)
        if history.pending:
            continue  # waiting for the broker: the outbox dispatcher owns it
        last = history.last_sent_at or job.created_at
        if last + resend_after > now:
            continue
        if RuntimeJob.objects.filter(device_id=job.device_id, state=RuntimeJob.State.RUNNING).exists():
            continue  # the device is working through its queue
        if job.device.operator_state == Device.OperatorState.DRAINING and not _drain_eligible(
            job.device, job
        ):
            continue  # held back by the device's operator: it pauses once its earlier jobs are done
        with transaction.atomic():
            locked = RuntimeJob.objects.select_for_update().select_related("device").get(pk=job.pk)
            if locked.state != RuntimeJob.State.QUEUED:
                continue
            if history.count >= limit_attempts:
                _job_fail(
                    locked,
                    f"{locked.device.name} did not pick up this job after {history.count} tries, so it "
                    "was not measured (the device may be offline). Try again later, or choose another "
                    "device.",
                )
                counts["failed"] += 1
                continue
            runtime_job_send(job_id=locked.pk)
            counts["requeued"] += 1
