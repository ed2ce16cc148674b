"""App configuration of `evaluation`: registers its periodic tasks (offline sweep) with Celery beat."""

from django.apps import AppConfig
from django.conf import settings


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation (devices and runtime jobs)"

    def ready(self):
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault(
                "evaluation-mark-offline-devices",
                {
                    "task": "evaluation.mark_offline_devices",
                    "schedule": 15.0,
                    "options": {"queue": "default"},
                },
            )
            schedule.setdefault(
                "evaluation-recover-stuck-jobs",
                {"task": "evaluation.recover_stuck_jobs", "schedule": 60.0, "options": {"queue": "default"}},
            )
