"""Reads of evaluation: the device list with live status, a user's jobs, a job's queue position, the
limits a page or the API states (settings read at call time). Selectors never write."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Device, RuntimeJob
from .tflite import format_bytes

ACTIVE = [RuntimeJob.State.QUEUED, RuntimeJob.State.RUNNING]


def max_model_bytes() -> int:
    return int(settings.EVALUATION_MAX_MODEL_BYTES)


def too_big_message(size: int) -> str:
    return (
        f"The file is {format_bytes(size)}; the largest model accepted is {format_bytes(max_model_bytes())}."
    )


def offline_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.EVALUATION_OFFLINE_AFTER_S))


def device_is_online(device: Device, *, now: dt.datetime | None = None) -> bool:
    if device.status == Device.Status.OFFLINE or device.last_heartbeat is None:
        return False
    return device.last_heartbeat >= (now or timezone.now()) - offline_after()


def device_list(*, include_disabled: bool = False) -> list[Device]:
    """Devices with `effective_status` (offline when heartbeats stopped, even before the sweep ran) and
    `queue_length` (jobs queued or running)."""
    devices = Device.objects.all() if include_disabled else Device.objects.filter(enabled=True)
    now = timezone.now()
    result = []
    for device in devices:
        device.effective_status = (
            device.status if device_is_online(device, now=now) else Device.Status.OFFLINE
        )
        device.queue_length = RuntimeJob.objects.filter(device=device, state__in=ACTIVE).count()
        result.append(device)
    return result


def device_pick(*, device: Device, accelerator: str) -> Device:
    """The device itself when online, else its online twin (same group, same accelerator) with the
    shortest queue; with no twin online, the device itself (the job waits for it)."""
    if device_is_online(device) or not device.group:
        return device
    twins = [
        d
        for d in Device.objects.filter(group=device.group, enabled=True).exclude(pk=device.pk)
        if accelerator in d.accelerators and device_is_online(d)
    ]
    if not twins:
        return device
    return min(
        twins,
        key=lambda d: RuntimeJob.objects.filter(
            device=d, state__in=[RuntimeJob.State.QUEUED, RuntimeJob.State.RUNNING]
        ).count(),
    )


def device_get(*, slug: str) -> Device | None:
    return Device.objects.filter(slug=slug, enabled=True).first()


def runtime_job_list_for_user(*, user, purpose: str | None = "check") -> QuerySet[RuntimeJob]:
    jobs = RuntimeJob.objects.filter(owner=user).select_related("device")
    return jobs.filter(purpose=purpose) if purpose else jobs


def runtime_job_queue_position(*, job: RuntimeJob) -> int | None:
    """1 = next to run on its device; 0 = running now; None = finished."""
    if job.finished:
        return None
    if job.state == RuntimeJob.State.RUNNING:
        return 0
    return RuntimeJob.objects.filter(device_id=job.device_id, state__in=ACTIVE, pk__lt=job.pk).count() + 1


def runtime_job_get(*, uid, with_device: bool = True) -> RuntimeJob | None:
    """The job with this public id, or None."""
    jobs = RuntimeJob.objects.select_related("device") if with_device else RuntimeJob.objects.all()
    return jobs.filter(uid=uid).first()


def runtime_job_get_by_pk(*, pk: int | None) -> RuntimeJob | None:
    """The job with this primary key (a submission's `runtime_job_id`), with its device, or None."""
    if pk is None:
        return None
    return RuntimeJob.objects.select_related("device").filter(pk=pk).first()
