"""Reads of evaluation: the device list with live status, a user's jobs, a job's queue position."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from .models import Device, DeviceHost, RuntimeJob
from .tokens import device_host_name_from_token

ACTIVE = [RuntimeJob.State.QUEUED, RuntimeJob.State.RUNNING]


def device_list(*, include_disabled: bool = False) -> list[Device]:
    """Devices with `effective_status` (offline when heartbeats stopped, even before the sweep ran) and
    `queue_length` (jobs queued or running)."""
    from .services import device_is_online

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


def device_host_from_token(token: str) -> DeviceHost | None:
    """The enabled host whose signed token this is (created on first use; disable it to revoke)."""
    name = device_host_name_from_token(token or "")
    if not name:
        return None
    host, _ = DeviceHost.objects.get_or_create(name=name)
    return host if host.enabled else None
