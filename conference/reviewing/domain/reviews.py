"""Reviews and the reminders about them.

State machine of a review: draft → submitted (editable until decisions are released; a submitted
review stays complete). Reminders: the periodic one to reviewers whose reviews are due within a day
or late (at most every `reminder_every_hours`), and a chair's "remind" click (once per click).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url
from conference.mail import mail_enqueue
from conference.models import Paper, Workshop

from .. import selectors
from ..models import Assignment, Review, ReviewSettings

REVIEW_FIELDS = [
    "rating",
    "confidence",
    "strengths",
    "weaknesses",
    "justification",
    "comments_to_authors",
    "confidential_comments",
]
REQUIRED_TO_SUBMIT = {
    "rating": "an overall rating",
    "confidence": "your confidence",
    "strengths": "strengths",
    "weaknesses": "weaknesses",
    "comments_to_authors": "comments to the authors",
}
DATE_FORMAT = "%a %d %B %Y, %H:%M %Z"


def _missing(review: Review) -> list[str]:
    return [label for field, label in REQUIRED_TO_SUBMIT.items() if not getattr(review, field)]


def review_save(*, assignment: Assignment, data: dict, submit: bool) -> Review:
    """Saves the review as a draft, or submits it (every required field filled). Nothing typed is lost:
    a refused submission is still saved, as the draft it was, before the error is raised."""
    if selectors.released_decision(paper=assignment.paper):
        raise ValidationError("Decisions have been released: reviews can no longer change.")
    with transaction.atomic():
        review, _ = Review.objects.select_for_update().get_or_create(assignment=assignment)
        was_submitted = review.state == Review.State.SUBMITTED
        for field in REVIEW_FIELDS:
            if field in data:
                empty = None if field in ("rating", "confidence") else ""
                setattr(review, field, data[field] if data[field] not in ("", None) else empty)
        if was_submitted and (missing := _missing(review)):
            # A submitted review stays complete: an edit that empties a required field is refused.
            raise ValidationError(
                f"A submitted review needs {', '.join(missing)}; your change was not saved."
            )
        review.save()
    if submit:
        if missing := _missing(review):
            raise ValidationError(f"Saved as a draft. To submit, fill in {', '.join(missing)}.")
        review.state = Review.State.SUBMITTED
        review.submitted_at = review.submitted_at or timezone.now()
        review.save(update_fields=["state", "submitted_at"])
    return review


# --- Reminders -----------------------------------------------------------------------------------


def _pending_assignments(workshop: Workshop):
    """Committed assignments of submitted papers whose review is not submitted."""
    return (
        Assignment.objects.filter(
            paper__workshop=workshop,
            state=Assignment.State.COMMITTED,
            paper__status=Paper.Status.SUBMITTED,
        )
        .exclude(review__state=Review.State.SUBMITTED)
        .select_related("user", "paper")
    )


def _reminder_mail(assignment: Assignment, config: ReviewSettings, *, late: bool) -> None:
    workshop, paper = config.workshop, assignment.paper
    url = absolute_url(
        reverse("reviewing:review", kwargs={"workshop": workshop.slug, "number": paper.number})
    )
    mail_enqueue(
        to=[assignment.user.email],
        subject=(
            f"[{workshop.short_name}] {'Late' if late else 'Due soon'}: your review of paper #{paper.number}"
        ),
        body=render_to_string(
            "reviewing/mail/review_reminder.txt",
            {
                "paper": paper,
                "late": late,
                "due_at": config.review_deadline.astimezone(workshop.zone).strftime(DATE_FORMAT),
                "url": url,
            },
        ),
    )


def reminders_send(*, now=None) -> int:
    """E-mails reviewers whose reviews are due within a day or late, at most every `reminder_every_hours`."""
    now = now or timezone.now()
    sent = 0
    for config in ReviewSettings.objects.filter(review_deadline__isnull=False).select_related("workshop"):
        if config.review_deadline - timedelta(days=1) > now:
            continue
        interval = timedelta(hours=config.reminder_every_hours)
        for assignment in _pending_assignments(config.workshop):
            if assignment.last_reminded_at and assignment.last_reminded_at > now - interval:
                continue
            _reminder_mail(assignment, config, late=now > config.review_deadline)
            Assignment.objects.filter(pk=assignment.pk).update(last_reminded_at=now)
            sent += 1
    return sent


def _pending_by_reviewer(workshop: Workshop, chair, user_ids) -> dict:
    """Reviewer → their pending assignments (locked) on the papers the chair may see."""
    hidden = selectors.conflicted_paper_ids(workshop=workshop, user=chair)
    pending = (
        _pending_assignments(workshop)
        .select_for_update(of=("self",))
        .exclude(paper_id__in=hidden)
        .order_by("paper__number")
    )
    if user_ids is not None:
        pending = pending.filter(user_id__in=user_ids)
    by_user: dict = {}
    for assignment in pending:
        by_user.setdefault(assignment.user, []).append(assignment)
    return by_user


@transaction.atomic
def reviewers_remind(*, workshop: Workshop, chair, user_ids=None, late_only: bool, shown_at, now=None) -> int:
    """A chair's "remind" click: one e-mail per reviewer (all of their pending reviews on papers the
    chair may see), noted on the assignments. `shown_at` is when the chair's page was rendered: a
    reviewer reminded since (a second click, another chair) is not reminded again. Returns how many
    reviewers were e-mailed."""
    now = now or timezone.now()
    deadline = selectors.review_settings_get(workshop=workshop).review_deadline
    if late_only and (deadline is None or now <= deadline):
        raise ValidationError("No review is late: the review deadline has not passed.")
    sent = 0
    home = absolute_url(reverse("reviewing:home", kwargs={"workshop": workshop.slug}))
    for reviewer, assignments in _pending_by_reviewer(workshop, chair, user_ids).items():
        if any(a.last_reminded_at and a.last_reminded_at > shown_at for a in assignments):
            continue  # reminded after the page was shown: this click was already answered
        mail_enqueue(
            to=[reviewer.email],
            subject=f"[{workshop.short_name}] Reminder: {len(assignments)} review(s) to submit",
            body=render_to_string(
                "reviewing/mail/reviews_reminder.txt",
                {
                    "workshop": workshop,
                    "papers": [a.paper for a in assignments],
                    "late": deadline is not None and now > deadline,
                    "due_at": deadline.astimezone(workshop.zone).strftime(DATE_FORMAT) if deadline else "",
                    "url": home,
                },
            ),
        )
        Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(last_reminded_at=now)
        sent += 1
    return sent
