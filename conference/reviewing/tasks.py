"""Celery tasks of reviewing: the periodic reminder to reviewers whose reviews are due or late."""

from celery import shared_task


@shared_task(name="reviewing.send_review_reminders", acks_late=True, reject_on_worker_lost=True)
def send_review_reminders() -> int:
    from .services import reminders_send

    return reminders_send()
