"""Celery tasks of `conference`: thin callers of the services."""

from celery import shared_task

from .mail import mail_send


@shared_task(name="conference.send_outgoing_mail", bind=True, max_retries=5, default_retry_delay=30,
             acks_late=True)
def send_outgoing_mail(self, mail_id: int) -> str:
    try:
        mail = mail_send(mail_id=mail_id)
    except Exception as exc:  # noqa: BLE001
        raise self.retry(exc=exc)
    return mail.state if mail else "missing"
