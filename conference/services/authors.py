"""The authors of a paper: the ordered list replaced on submit and edit (links and invitations of
addresses already there are kept), invitations to co-authors without an account, and the link of an
account to the author rows naming an address once the person confirms it."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from common.urls import absolute_url

from ..mail import mail_enqueue
from ..models import Paper, PaperAuthor, PaperChange
from ..selectors import user_for_confirmed_email
from .notify import log_change


@dataclass(frozen=True)
class AuthorData:
    name: str
    email: str
    affiliation: str


def set_authors(paper: Paper, authors: list[AuthorData]) -> list[PaperAuthor]:
    """Replaces the author list, keeping links and invitations of addresses already there; returns
    the authors that need an invitation (no account yet, not invited before)."""
    existing = {a.email.lower(): a for a in paper.authors.all()}
    wanted = {a.email.lower() for a in authors}
    PaperAuthor.objects.filter(pk__in=[a.pk for e, a in existing.items() if e not in wanted]).delete()
    to_invite = []
    for order, data in enumerate(authors, start=1):
        author = existing.get(data.email.lower()) or PaperAuthor(paper=paper, email=data.email)
        author.order, author.name, author.affiliation = order, data.name.strip(), data.affiliation.strip()
        if author.user_id is None:
            author.user = user_for_confirmed_email(email=data.email)
        author.save()
        if author.user_id is None and author.invited_at is None:
            to_invite.append(author)
    return to_invite


def invite(paper: Paper, authors: list[PaperAuthor], *, now: dt.datetime) -> None:
    """Asks each of `authors` to sign up with the address the paper lists (mail
    conference/mail/coauthor_invitation.txt)."""
    for author in authors:
        signup = absolute_url(reverse("account_signup") + "?" + urlencode({"email": author.email}))
        mail_enqueue(
            to=[author.email],
            subject=f"[{paper.workshop.short_name}] You are a co-author of paper #{paper.number}",
            body=render_to_string(
                "conference/mail/coauthor_invitation.txt",
                {"author": author, "paper": paper, "signup_url": signup},
            ),
        )
        author.invited_at = now
        author.save(update_fields=["invited_at"])


def paper_authors_link_user(*, user, email: str) -> int:
    """Links the author rows with this (confirmed) address to the account; returns how many."""
    count = 0
    for author in PaperAuthor.objects.filter(email__iexact=email, user__isnull=True).select_related("paper"):
        author.user = user
        author.save(update_fields=["user"])
        log_change(
            author.paper,
            user=user,
            action=PaperChange.Action.AUTHOR_LINKED,
            summary=f"{author.name} linked the account {email}",
        )
        count += 1
    return count
