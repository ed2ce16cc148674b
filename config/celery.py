"""The Celery application: queues `default` (mail, light work), `scoring` (fidelity, PDF checks,
conversion) and one queue per device (`device.<slug>`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if str(app.conf.broker_url or "").startswith("sqla+"):
    # The serverless broker polls its table; the default 1 s poll makes every task feel slow.
    # (Passing polling_interval through broker_transport_options would reach create_engine and fail.)
    from kombu.transport import sqlalchemy as _sqla

    _sqla.Transport.polling_interval = 0.1


@app.task(name="config.ping")
def ping(value: str = "pong") -> str:
    """A round-trip probe used by /healthz checks and the smoke test."""
    return value
