"""Celery tasks of `conference`: thin callers of the services."""

from celery import shared_task

from .mail import mail_send
from .services import paper_version_check, paper_versions_recheck_stale


@shared_task(
    name="conference.send_outgoing_mail", bind=True, max_retries=5, default_retry_delay=30, acks_late=True
)
def send_outgoing_mail(self, mail_id: int) -> str:
    try:
        mail = mail_send(mail_id=mail_id)
    except Exception as exc:  # noqa: BLE001
        raise self.retry(exc=exc) from None
    return mail.state if mail else "missing"


@shared_task(name="conference.check_paper_version", acks_late=True)
def check_paper_version(version_id: int) -> str:
    """The PDF check of one uploaded version (queued on `scoring`)."""
    version = paper_version_check(version_id=version_id)
    return version.check_state if version else "missing"


@shared_task(name="conference.recheck_stale_papers")
def recheck_stale_papers() -> dict:
    """Beat's sweep: PDF checks lost or killed are run again, or refused with a reason."""
    return paper_versions_recheck_stale()
