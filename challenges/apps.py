"""App configuration of `challenges`."""

from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = "Challenges"

    def important_dates(self, workshop):
        from .selectors import challenge_dates_for_workshop

        return challenge_dates_for_workshop(workshop=workshop)

    def seed_demo(self, *, stdout):
        from .seed import seed_demo

        return seed_demo(stdout=stdout)
