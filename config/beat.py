"""The one place that builds Celery beat's schedule.

Every app declares its periodic tasks the same way, as an `AppConfig.periodic_tasks` list of
`(entry name, task name, setting name)` triples; the setting holds the interval in seconds (defaults in
`config/settings.py`, each overridable from the environment). `build_beat_schedule()` collects them from
every installed app, plus any entries of `settings.CELERY_BEAT_SCHEDULE`, and `install_beat_schedule()`
assigns the result to `app.conf.beat_schedule` once, when Django is ready (`common.apps`), which is
before `celery beat` creates its scheduler. No app assigns or edits the schedule itself.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings


def build_beat_schedule() -> dict:
    """{entry: {"task", "schedule" (seconds), "options"}} for every periodic task of every app."""
    schedule = dict(getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {})
    for config in apps.get_app_configs():
        for entry, task, setting_name in getattr(config, "periodic_tasks", ()):
            if entry in schedule:
                raise ValueError(f"two periodic tasks are named {entry!r} (app {config.label})")
            schedule[entry] = {
                "task": task,
                "schedule": float(getattr(settings, setting_name)),
                "options": {"queue": "default"},
            }
    return schedule


def install_beat_schedule() -> dict:
    """Assigns the whole schedule to the Celery app (called once, when every app is loaded)."""
    from config.celery import app

    schedule = build_beat_schedule()
    app.conf.beat_schedule = schedule
    return schedule
