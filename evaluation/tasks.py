"""Celery tasks of evaluation on the site side (queue `default`): the offline sweep for devices that
missed their heartbeats, and failing jobs that keep killing their device. The device side's task lives
in `evaluation.device_worker` (no database there)."""

from celery import shared_task

from . import services


@shared_task(name="evaluation.mark_offline_devices", acks_late=True)
def mark_offline_devices() -> int:
    return services.devices_mark_offline()


@shared_task(name="evaluation.fail_stuck_jobs", acks_late=True)
def fail_stuck_jobs() -> int:
    return services.runtime_job_fail_stuck()
