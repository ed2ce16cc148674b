"""Reads for the chairs' exports of reviewing (API: /api/conference/workshops/<slug>/export/…): every
submitted review, every decision, every committed assignment, as rows. Chairs see reviewers' names
(they run the committee); papers a chair is conflicted with are left out, as on the pages."""

from django.db.models import QuerySet

from ..models import Paper, Workshop
from .models import Assignment, Decision, Review
from .selectors import conflicted_paper_ids

REVIEW_EXPORT_HEADER = [
    "paper",
    "title",
    "reviewer_number",
    "reviewer",
    "reviewer_email",
    "rating",
    "confidence",
    "strengths",
    "weaknesses",
    "justification",
    "comments_to_authors",
    "confidential_comments",
    "submitted_at",
]
DECISION_EXPORT_HEADER = ["paper", "title", "status", "outcome", "decided_at", "released_at"]
ASSIGNMENT_EXPORT_HEADER = ["paper", "title", "reviewer_number", "reviewer", "reviewer_email", "review_state"]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _visible_papers(*, workshop: Workshop, user) -> QuerySet[Paper]:
    hidden = conflicted_paper_ids(workshop=workshop, user=user)
    return Paper.objects.filter(workshop=workshop).exclude(id__in=hidden)


def review_export_rows(*, workshop: Workshop, user) -> list[list]:
    """Every submitted review of a committed assignment, by paper and reviewer number."""
    reviews = (
        Review.objects.filter(
            assignment__paper__in=_visible_papers(workshop=workshop, user=user),
            assignment__state=Assignment.State.COMMITTED,
            state=Review.State.SUBMITTED,
        )
        .select_related("assignment__paper", "assignment__user")
        .order_by("assignment__paper__number", "assignment__number")
    )
    return [
        [
            r.assignment.paper.number,
            r.assignment.paper.title,
            r.assignment.number,
            r.assignment.user.get_full_name() or r.assignment.user.email,
            r.assignment.user.email,
            r.rating,
            r.confidence,
            r.strengths,
            r.weaknesses,
            r.justification,
            r.comments_to_authors,
            r.confidential_comments,
            _iso(r.submitted_at),
        ]
        for r in reviews
    ]


def decision_export_rows(*, workshop: Workshop, user) -> list[list]:
    """Every paper with its decision (empty while none is recorded)."""
    papers = _visible_papers(workshop=workshop, user=user).order_by("number")
    decisions = {d.paper_id: d for d in Decision.objects.filter(paper__in=papers)}
    rows = []
    for paper in papers:
        decision = decisions.get(paper.pk)
        rows.append(
            [
                paper.number,
                paper.title,
                paper.status,
                decision.outcome if decision else "",
                _iso(decision.decided_at) if decision else "",
                _iso(decision.released_at) if decision else "",
            ]
        )
    return rows


def assignment_export_rows(*, workshop: Workshop, user) -> list[list]:
    """Every committed assignment with the state of its review (none, draft, submitted)."""
    assignments = (
        Assignment.objects.filter(
            paper__in=_visible_papers(workshop=workshop, user=user), state=Assignment.State.COMMITTED
        )
        .select_related("paper", "user", "review")
        .order_by("paper__number", "number")
    )
    rows = []
    for a in assignments:
        review = getattr(a, "review", None)
        rows.append(
            [
                a.paper.number,
                a.paper.title,
                a.number,
                a.user.get_full_name() or a.user.email,
                a.user.email,
                review.state if review else "none",
            ]
        )
    return rows
