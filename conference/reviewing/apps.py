"""App configuration of `conference.reviewing` (label `reviewing`)."""

from django.apps import AppConfig


class ReviewingConfig(AppConfig):
    name = "conference.reviewing"
    label = "reviewing"
    verbose_name = "Reviewing"
