"""App configuration of `conversion`: declares its periodic sweep of conversions no worker finished,
which `config.beat` schedules."""

from django.apps import AppConfig


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = "Model conversion"
    default_auto_field = "django.db.models.BigAutoField"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [("conversion-sweep-stale", "conversion.sweep_stale", "BEAT_SWEEP_EVERY_S")]
