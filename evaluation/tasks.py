"""Celery tasks of evaluation on the site side (queue `default`): the offline sweep for devices that
missed their heartbeats, and putting back on the queue (or failing, after
the last attempt) jobs whose device worker vanished mid-run. The device side's task lives
in `evaluation.device_worker` (no database there)."""

from celery import shared_task

from . import services


@shared_task(name="evaluation.mark_offline_devices", acks_late=True)
def mark_offline_devices() -> int:
    return services.devices_mark_offline()


@shared_task(name="evaluation.recover_stuck_jobs", acks_late=True)
def recover_stuck_jobs() -> dict:
    return services.runtime_jobs_recover_stuck()
