"""App configuration of `challenges`: the dates and demo-seed hooks, and its periodic task (re-queueing
submissions whose scoring was lost) for Celery beat."""

from django.apps import AppConfig
from django.conf import settings


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = "Challenges"

    def ready(self):
        from . import rules  # noqa: F401 - registers the permissions

        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault(
                "challenges-requeue-stale-submissions",
                {
                    "task": "challenges.requeue_stale_submissions",
                    "schedule": 60.0,
                    "options": {"queue": "default"},
                },
            )

    def important_dates(self, workshop):
        from .selectors import challenge_dates_for_workshop

        return challenge_dates_for_workshop(workshop=workshop)

    def seed_demo(self, *, stdout):
        from .seed import seed_demo

        return seed_demo(stdout=stdout)
