"""App configuration of `console` (the chairs' and organisers' pages under /console/ and
/<edition>/manage/)."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    label = "console"
    verbose_name = "Organiser console"
