"""App configuration of `conference.proceedings` (label `proceedings`): declares the sweep of
unfinished proceedings exports (scheduled by `config.beat`) and seeds the demo programme."""

from django.apps import AppConfig


class ProceedingsConfig(AppConfig):
    name = "conference.proceedings"
    label = "proceedings"
    verbose_name = "Proceedings and programme"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        ("proceedings-sweep-exports", "proceedings.sweep_exports", "BEAT_SWEEP_EVERY_S"),
    ]

    def seed_demo(self, *, stdout):
        """A two-session programme, two invited talks and two partners per demo edition (idempotent)."""
        from .seed import seed_demo  # models: not importable before the app registry is ready

        return seed_demo(stdout=stdout)
