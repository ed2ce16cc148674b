"""Reads of evaluation: the device list with live status, a user's jobs, a job's queue position, the
limits a page or the API states (settings read at call time), the profile chart, the comparison of two
jobs and the device lab. Selectors never write."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Device, RuntimeJob
from .profiling import top_operator_types
from .stats import welch
from .sysfs import hottest
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


def device_list(*, include_disabled: bool = False, slug: str | None = None) -> list[Device]:
    """Devices with `effective_status` (offline when heartbeats stopped, even before the sweep ran) and
    `queue_length` (jobs queued or running)."""
    devices = Device.objects.all() if include_disabled else Device.objects.filter(enabled=True)
    if slug is not None:
        devices = devices.filter(slug=slug)
    now = timezone.now()
    result = []
    for device in devices.select_related("device_host"):
        device.effective_status = (
            device.status if device_is_online(device, now=now) else Device.Status.OFFLINE
        )
        device.queue_length = RuntimeJob.objects.filter(device=device, state__in=ACTIVE).count()
        result.append(device)
    return result


def device_list_item(*, slug: str) -> Device | None:
    """One device as `device_list` shows it (status, queue length), or None."""
    found = device_list(slug=slug)
    return found[0] if found else None


def device_takes_jobs(device: Device) -> bool:
    """Whether the device's operator lets it take new jobs (not paused, not draining)."""
    return device.operator_state == Device.OperatorState.ACTIVE


def device_pick(*, device: Device, accelerator: str) -> Device:
    """The device itself when online and taking jobs, else its online twin (same group, same accelerator,
    not paused or draining) with the shortest queue; with no such twin, the device itself (the job waits
    for it)."""
    if (device_is_online(device) and device_takes_jobs(device)) or not device.group:
        return device
    twins = [
        d
        for d in Device.objects.filter(group=device.group, enabled=True).exclude(pk=device.pk)
        if accelerator in d.accelerators and device_is_online(d) and device_takes_jobs(d)
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


# --- Measurement depth: the profile chart, the comparison of two jobs, the device lab --------------

CHART_BAR_WIDTH = 160  # px of a bar taking all the time; the chart is 360 px wide, a phone's width


def profile_chart(profile: dict | None, *, limit: int = 10) -> dict | None:
    """The server-rendered SVG bar chart of the operator types that take the most time: one bar per type
    with its geometry (the template only places what is computed here)."""
    rows = top_operator_types(profile or {}, limit=limit)
    if not rows:
        return None
    bar_height, gap, label_width = 18, 6, 130
    bars = []
    for position, row in enumerate(rows):
        y = position * (bar_height + gap)
        bars.append(
            {
                **row,
                "y": y,
                "text_y": y + bar_height - 5,
                "width": max(1, round(row["share"] * CHART_BAR_WIDTH)),
                "value_x": label_width + max(1, round(row["share"] * CHART_BAR_WIDTH)) + 6,
            }
        )
    return {
        "bars": bars,
        "label_width": label_width,
        "bar_height": bar_height,
        "width": label_width + CHART_BAR_WIDTH + 70,
        "height": len(rows) * (bar_height + gap),
    }


def runtime_job_summary(job: RuntimeJob) -> dict | None:
    """n, mean and standard deviation (n − 1) of a finished job's timed runs, for comparisons."""
    if job.state != RuntimeJob.State.DONE or job.mean_ms is None or not job.runs:
        return None
    n = int(job.runs)
    std = float(job.std_ms or 0.0)
    if n > 1:
        std *= (n / (n - 1)) ** 0.5  # the runners report the population deviation
    return {"n": n, "mean": float(job.mean_ms), "std": std}


def runtime_job_compare(*, first: RuntimeJob, second: RuntimeJob) -> dict | None:
    """Second − first: the difference in mean latency with its 95% interval (Welch) and whether it is
    significant; None when either job has no result with at least two timed runs."""
    a, b = runtime_job_summary(first), runtime_job_summary(second)
    if a is None or b is None:
        return None
    return welch(a, b)


def profile_agreement(job: RuntimeJob) -> float | None:
    """The profile's sum of operator times over the job's median latency (1.0: they agree)."""
    total = (job.profile or {}).get("total_ms")
    if not total or not job.median_ms:
        return None
    return float(total) / float(job.median_ms)


def device_lab(*, now: dt.datetime | None = None) -> list[dict]:
    """The device lab: devices grouped by host, each with status, operator state, queue length, jobs
    and utilisation over the last day, the last thermal reading and the last failed job (whose text the
    template shows only to those with `evaluation.view_job_error` on it)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=1)
    groups: dict[str, dict] = {}
    for device in device_list():
        recent = list(
            RuntimeJob.objects.filter(device=device, finished_at__gte=since)
            .only("started_at", "finished_at", "state", "error_message", "repetitions")
            .order_by("-finished_at")
        )
        busy_s = sum(
            (min(j.finished_at, now) - max(j.started_at, since)).total_seconds()
            for j in recent
            if j.started_at and j.finished_at and j.finished_at > j.started_at
        )
        last_error = (
            RuntimeJob.objects.filter(device=device, state=RuntimeJob.State.FAILED)
            .exclude(error_message="")
            .order_by("-finished_at")
            .only("error_message", "finished_at", "owner_id", "device_id")
            .first()
        )
        if last_error is not None:
            last_error.device = device  # the permission to read its text goes through the device's host
        device.jobs_last_day = len(recent)
        device.utilisation = max(0.0, min(1.0, busy_s / dt.timedelta(days=1).total_seconds()))
        device.last_error = last_error
        device.thermal = _last_thermal(device)
        host = device.device_host
        key = host.name if host else (device.host or "—")
        groups.setdefault(key, {"name": key, "host": host, "devices": []})["devices"].append(device)
    return [groups[k] for k in sorted(groups)]


def _last_thermal(device: Device) -> dict | None:
    """The device's last temperature reading: the end of its last measured repetition."""
    job = (
        RuntimeJob.objects.filter(device=device, state=RuntimeJob.State.DONE)
        .exclude(repetitions=[])
        .order_by("-finished_at")
        .only("repetitions", "finished_at")
        .first()
    )
    if job is None:
        return None
    reading = (job.repetitions[-1] or {}).get("thermal_after") or {}
    return {"hottest_c": hottest(reading), "source": reading.get("source", ""), "at": job.finished_at}


def device_get_for_operator(*, slug: str) -> Device | None:
    """A device (enabled or not) with its host, for the operator's actions."""
    return Device.objects.select_related("device_host").filter(slug=slug).first()
