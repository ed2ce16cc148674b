"""App configuration of `common`: the dispatch outbox, its periodic dispatcher, and the one place that
installs Celery beat's schedule (`config.beat`) once every app is loaded."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common (dispatch outbox)"

    # (beat entry, task, setting that holds the interval in seconds); see config.beat.
    periodic_tasks = [("common-dispatch-pending", "common.dispatch_pending", "BEAT_DISPATCH_EVERY_S")]

    def ready(self):
        from config.beat import install_beat_schedule

        from . import tasks  # noqa: F401 - registers the dispatcher task and the worker-start hook

        install_beat_schedule()
