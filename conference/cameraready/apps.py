"""App configuration of `conference.cameraready` (label `cameraready`): declares the deadline
reminders and the sweep of lost checks as periodic tasks (scheduled by `config.beat`)."""

from django.apps import AppConfig


class CameraReadyConfig(AppConfig):
    name = "conference.cameraready"
    label = "cameraready"
    verbose_name = "Camera-ready"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        (
            "cameraready-reminders",
            "cameraready.send_camera_ready_reminders",
            "BEAT_CAMERA_READY_REMINDERS_EVERY_S",
        ),
        ("cameraready-recheck-stale", "cameraready.recheck_stale_final_versions", "BEAT_SWEEP_EVERY_S"),
    ]
