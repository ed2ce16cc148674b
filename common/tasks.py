"""Celery tasks of `common`: the periodic outbox dispatcher, also run when a site worker starts."""

import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)

DISPATCH_TASK = "common.dispatch_pending"


@shared_task(name=DISPATCH_TASK, acks_late=True, ignore_result=True)
def dispatch_pending() -> dict:
    """Sends every message still waiting in the outbox (beat, every BEAT_DISPATCH_EVERY_S)."""
    from .dispatch import dispatch_send

    return dispatch_send()


@worker_ready.connect(dispatch_uid="common-dispatch-on-worker-start")
def _dispatch_on_worker_start(sender=None, **kwargs):
    """A worker that starts (often: after the broker came back) asks for the outbox to be sent."""
    try:
        sender.app.send_task(DISPATCH_TASK, queue="default", routing_key="default")
    except Exception as exc:  # noqa: BLE001 - never stop a worker from starting
        logger.warning("could not queue the outbox dispatcher at worker start: %s", exc)
