"""`manage.py seed_demo`: every app that has demo content exposes `seed_demo(stdout=…)` on its
AppConfig; they run in INSTALLED_APPS order (conference first, so the workshops exist)."""

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Seeds the demo MAI workshops (idempotent: keeps what users changed)."

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            seeder = getattr(config, "seed_demo", None)
            if seeder:
                seeder(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
