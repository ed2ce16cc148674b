"""Outgoing e-mail: every message is written to the outbox, then sent by a Celery task after commit.

Callers anywhere in the project use `mail_enqueue`; nothing sends mail inline in a request.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from common.dispatch import dispatch, ref_for

from .models import OutgoingMail


def mail_enqueue(
    *,
    to: Iterable[str],
    subject: str,
    body: str,
    html_body: str = "",
    from_email: str = "",
    reply_to: Iterable[str] = (),
) -> OutgoingMail:
    """Stores the message and queues its sending once the surrounding transaction commits."""
    mail = OutgoingMail.objects.create(
        to=[address for address in to if address],
        subject=subject[:500],
        body=body,
        html_body=html_body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        reply_to=list(reply_to),
    )
    # Through the dispatch outbox: a broker outage delays the mail (the dispatcher sends it later)
    # instead of failing the request that wrote it.
    dispatch("conference.send_outgoing_mail", args=[mail.pk], queue="default", ref=ref_for(mail))
    return mail


def mail_enqueue_message(message: EmailMultiAlternatives) -> OutgoingMail:
    """Queues a ready-made Django message (used by the allauth adapter)."""
    html = ""
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            html = content
    return mail_enqueue(
        to=message.to,
        subject=message.subject,
        body=message.body,
        html_body=html,
        from_email=message.from_email,
        reply_to=message.reply_to,
    )


def mail_send(*, mail_id: int) -> OutgoingMail | None:
    """Sends one queued message exactly once; a second call for the same row does nothing."""
    with transaction.atomic():
        mail = OutgoingMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.state == OutgoingMail.State.SENT:
            return mail
        message = EmailMultiAlternatives(
            subject=mail.subject,
            body=mail.body,
            from_email=mail.from_email or None,
            to=mail.to,
            reply_to=mail.reply_to or None,
        )
        if mail.html_body:
            message.attach_alternative(mail.html_body, "text/html")
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried by the task
            mail.state = OutgoingMail.State.FAILED
            mail.error = f"{exc.__class__.__name__}: {exc}"
            mail.save(update_fields=["state", "error"])
            raise
        mail.state = OutgoingMail.State.SENT
        mail.sent_at = timezone.now()
        mail.error = ""
        mail.save(update_fields=["state", "sent_at", "error"])
        return mail
