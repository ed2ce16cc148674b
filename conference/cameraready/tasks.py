"""Celery tasks of the camera-ready: thin callers of the services (ids in, services do the work)."""

from celery import shared_task

from .services import final_version_check, final_versions_recheck_stale, reminders_send


@shared_task(name="cameraready.check_final_version", acks_late=True)
def check_final_version(version_id: int) -> str:
    """The camera-ready checks of one uploaded final PDF (queued on `scoring`)."""
    version = final_version_check(version_id=version_id)
    return version.check_state if version else "missing"


@shared_task(name="cameraready.send_camera_ready_reminders")
def send_camera_ready_reminders() -> dict:
    """Beat: the week and day reminders before the camera-ready deadline (each once per paper)."""
    return reminders_send()


@shared_task(name="cameraready.recheck_stale_final_versions")
def recheck_stale_final_versions() -> dict:
    """Beat's sweep: camera-ready checks lost or killed are run again, or refused with a reason."""
    return final_versions_recheck_stale()
