"""App configuration of `evaluation`: declares its periodic tasks (the offline sweep for devices and the
recovery of stuck runtime jobs), which `config.beat` schedules."""

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation (devices and runtime jobs)"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        (
            "evaluation-mark-offline-devices",
            "evaluation.mark_offline_devices",
            "BEAT_OFFLINE_DEVICES_EVERY_S",
        ),
        ("evaluation-recover-stuck-jobs", "evaluation.recover_stuck_jobs", "BEAT_SWEEP_EVERY_S"),
    ]
