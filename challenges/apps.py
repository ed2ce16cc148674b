"""App configuration of `challenges`: the dates and demo-seed hooks, and its periodic task (re-queueing
submissions whose scoring was lost), which `config.beat` schedules."""

from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = "Challenges"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        ("challenges-requeue-stale-submissions", "challenges.requeue_stale_submissions", "BEAT_SWEEP_EVERY_S")
    ]

    # The imports below are inside the methods: an AppConfig module is loaded before the app registry
    # has the models that these modules import.

    def ready(self):
        from . import leaderboard_cache, rules  # noqa: F401 - rules registers the permissions

        leaderboard_cache.connect()  # leaderboard pages and CSV are invalidated by what they show

    def important_dates(self, workshop):
        from .selectors import challenge_dates_for_workshop

        return challenge_dates_for_workshop(workshop=workshop)

    def seed_demo(self, *, stdout):
        from .seed import seed_demo

        return seed_demo(stdout=stdout)
