"""App configuration of `challenges.finalphase` (label `finalphase`)."""

from django.apps import AppConfig


class FinalPhaseConfig(AppConfig):
    name = "challenges.finalphase"
    label = "finalphase"
    verbose_name = "Challenges: final phase"
