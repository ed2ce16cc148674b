"""App configuration of `conference`."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConferenceConfig(AppConfig):
    name = "conference"
    verbose_name = "Workshop and papers"
    periodic_tasks = [
        ("conference-recheck-stale-papers", "conference.recheck_stale_papers", "BEAT_SWEEP_EVERY_S")
    ]

    def ready(self):
        # Imported here, not at the top: models and services can be imported only once the app
        # registry is ready (the same holds for the hooks below).
        from . import signals  # connects the receivers

        post_migrate.connect(signals.site_sync_from_settings, sender=self, dispatch_uid="conference.site")

    def important_dates(self, workshop):
        """Dates this app contributes to a workshop's dates page and iCalendar feed."""
        from .selectors import workshop_own_dates

        return workshop_own_dates(workshop=workshop)

    def seed_demo(self, *, stdout):
        """Creates the demo workshops and accounts (idempotent)."""
        from .seed import seed_demo

        return seed_demo(stdout=stdout)
