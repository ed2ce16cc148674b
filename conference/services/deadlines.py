"""Deadlines enforced to the second: a write refused outside the paper's submission window (from
`selectors.submission_window`, judged at the instant the server decided on), and a chair's extension
of one paper's deadline."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Paper, PaperChange
from ..selectors import Window
from .notify import log_change, paper_notify_authors


class SubmissionClosed(ValidationError):
    """The deadline (with grace and any extension) has passed, or submission has not opened yet."""


def _at(value: dt.datetime, zone) -> str:
    """A deadline to the second, in the edition's time zone: “2021-03-15 17:00:00 PDT”."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}"


def require_open(window: Window, now: dt.datetime, *, what: str, zone) -> None:
    """Raises SubmissionClosed (saying what was refused, and why) unless `window` is open at `now`."""
    if window.closes is None:
        raise SubmissionClosed(f"{what} is not possible: the chairs have not set a submission deadline yet.")
    if window.opens and now < window.opens:
        raise SubmissionClosed(f"{what} is not possible yet: submission opens at {_at(window.opens, zone)}.")
    if now > window.closes:
        raise SubmissionClosed(
            f"{what} is no longer possible: the deadline was {_at(window.closes, zone)} and it is now "
            f"{_at(now, zone)}. Only withdrawal is possible."
        )


def paper_extend_deadline(*, paper: Paper, user, until: dt.datetime) -> Paper:
    """A chair's extension for one paper (its authors can edit and upload until `until`)."""
    if until <= timezone.now():
        raise ValidationError({"until": "The extension must end in the future."})
    with transaction.atomic():
        paper = Paper.objects.select_for_update().select_related("workshop").get(pk=paper.pk)
        paper.deadline_extended_until = until
        paper.revision += 1
        paper.save()
        when = f"{timezone.localtime(until, paper.workshop.zone):%Y-%m-%d %H:%M %Z}"
        log_change(
            paper,
            user=user,
            action=PaperChange.Action.EXTENDED,
            summary=f"Extended the deadline of this paper to {when}",
            details={"until": until.isoformat()},
        )
        paper_notify_authors(
            paper=paper,
            subject="Deadline extended",
            template="deadline_extended.txt",
            context={"until": when},
        )
    return paper
