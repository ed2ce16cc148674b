"""The edition's part of the mail outbox: failed messages sent again."""

from __future__ import annotations

from django.db import transaction

from common.dispatch import dispatch, ref_for
from conference.models import OutgoingMail, Workshop

from .. import selectors


@transaction.atomic
def outbox_retry_failed(*, workshop: Workshop, mail_ids: list[int] | None = None) -> int:
    """Queues the edition's failed messages (or those of `mail_ids` among them) to be sent again,
    through the dispatch outbox. A message sent meanwhile is left alone. Returns how many."""
    failed = selectors.outbox_of_workshop(workshop=workshop).filter(state=OutgoingMail.State.FAILED)
    if mail_ids is not None:
        failed = failed.filter(pk__in=mail_ids)
    mails = list(failed.select_for_update(skip_locked=True))
    for mail in mails:
        mail.state = OutgoingMail.State.QUEUED
        mail.save(update_fields=["state"])
        dispatch("conference.send_outgoing_mail", args=[mail.pk], queue="default", ref=ref_for(mail))
    return len(mails)
