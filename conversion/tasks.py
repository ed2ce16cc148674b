"""Celery tasks of conversion: the conversion itself (queue `scoring`, sent through the dispatch outbox)
and the beat sweep of conversions no worker finished. Thin: the work is in `services`."""

from celery import shared_task

from . import services


@shared_task(name="conversion.run", acks_late=True, reject_on_worker_lost=True)
def run_conversion(conversion_id: int) -> None:
    services.conversion_run(conversion_id=conversion_id)


@shared_task(name="conversion.sweep_stale", acks_late=True)
def sweep_stale() -> dict:
    return services.conversions_sweep_stale()
