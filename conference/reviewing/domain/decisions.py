"""Decisions on papers and their release.

State machine of a decision: recorded (chair only; changed or cleared freely) → released (authors
see it and the reviews, the paper becomes accepted or rejected, and its authors get the chair's
e-mail, rendered by `selectors.notification_render`). A released decision never changes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conference.mail import mail_enqueue
from conference.models import Paper, PaperChange, Workshop

from .. import selectors
from ..models import Decision
from .review_settings import review_settings_ensure


@transaction.atomic
def decision_set(*, papers, outcome: str, user) -> int:
    """Records accept/reject for the papers (bulk); an empty outcome clears the decision. Authors learn
    nothing until release."""
    if outcome not in Decision.Outcome.values and outcome != "":
        raise ValidationError(f"Unknown decision “{outcome}”.")
    count = 0
    for paper in papers:
        if selectors.released_decision(paper=paper):
            raise ValidationError(f"The decision on paper #{paper.number} is already released.")
        if outcome == "":
            Decision.objects.filter(paper=paper).delete()
        else:
            Decision.objects.update_or_create(paper=paper, defaults={"outcome": outcome, "decided_by": user})
        count += 1
    return count


def _decision_release_one(decision: Decision, *, subject: str, body: str, user, now) -> None:
    """Releases one decision: the paper's new status, its history, the authors' e-mail."""
    paper = decision.paper
    mail_subject, mail_body = selectors.notification_render(paper=paper, subject=subject, body=body)
    decision.released_at = now
    decision.save(update_fields=["released_at"])
    paper.status = (
        Paper.Status.ACCEPTED if decision.outcome == Decision.Outcome.ACCEPT else Paper.Status.REJECTED
    )
    paper.save(update_fields=["status", "updated_at"])
    PaperChange.objects.create(
        paper=paper,
        user=user,
        action=PaperChange.Action.DECISION,
        summary=f"Decision released: {decision.get_outcome_display()}",
    )
    recipients = list(paper.authors.values_list("email", flat=True))
    mail_enqueue(to=recipients, subject=mail_subject, body=mail_body)


@transaction.atomic
def decisions_release(
    *, workshop: Workshop, subject: str, body: str, user, fingerprint: str | None = None
) -> int:
    """Releases every recorded, unreleased decision: authors see decision and reviews, get an e-mail.
    With `fingerprint` (from the confirmation page), refuses if the pending decisions changed since."""
    if fingerprint is not None and fingerprint != selectors.release_fingerprint(workshop=workshop):
        raise ValidationError(
            "The decisions changed since the confirmation page was shown: nothing was released. "
            "Check the new counts and confirm again."
        )
    config = review_settings_ensure(workshop=workshop)
    config.notification_subject, config.notification_body = subject, body
    config.save(update_fields=["notification_subject", "notification_body"])
    now = timezone.now()
    released = 0
    for decision in (
        Decision.objects.select_for_update()
        .filter(paper__workshop=workshop, released_at__isnull=True)
        .select_related("paper")
    ):
        _decision_release_one(decision, subject=subject, body=body, user=user, now=now)
        released += 1
    return released
