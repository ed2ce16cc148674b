"""The change log of a paper and the e-mails its authors get: one message to every author, its body
a template under templates/conference/mail/ that extends `paper_notice.txt` (the paper's number,
title and link at the foot)."""

from django.template.loader import render_to_string
from django.urls import reverse

from common.urls import absolute_url

from ..mail import mail_enqueue
from ..models import Paper, PaperChange


def log_change(paper: Paper, *, user, action: str, summary: str, details: dict | None = None) -> PaperChange:
    return PaperChange.objects.create(
        paper=paper, user=user, action=action, summary=summary, details=details or {}
    )


def paper_url(paper: Paper) -> str:
    return absolute_url(
        reverse("conference:paper", kwargs={"workshop": paper.workshop.slug, "number": paper.number})
    )


def display_name(user) -> str:
    """How mails name the person who acted: the profile's full name, the account's name or address."""
    if user is None:
        return "Someone"
    profile = getattr(user, "profile", None)
    return (profile.full_name if profile else "") or user.get_full_name() or user.email


def paper_notify_authors(*, paper: Paper, subject: str, template: str, context: dict | None = None) -> None:
    """One e-mail to every author of the paper (registered or not): `template` (a name under
    conference/mail/) rendered with the paper, its link and `context`."""
    body = render_to_string(
        f"conference/mail/{template}", {"paper": paper, "paper_url": paper_url(paper), **(context or {})}
    )
    mail_enqueue(
        to=[a.email for a in paper.authors.all()],
        subject=f"[{paper.workshop.short_name} #{paper.number}] {subject}",
        body=body,
    )
