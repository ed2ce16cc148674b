"""Reads of the review process: who is conflicted with what, what a reviewer may see, the chair's
dashboards. Conflicts never depend on detection having run: a paper's own authors are always
conflicted, whatever the Conflict rows say."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from conference.models import Membership, Paper, PaperAuthor, Profile, Workshop

from .models import Assignment, Bid, Conflict, Decision, Review, ReviewerProfile, ReviewSettings

ACTIVE_CONFLICT = [Conflict.State.SUGGESTED, Conflict.State.CONFIRMED]


def review_settings_get(*, workshop: Workshop) -> ReviewSettings:
    settings, _ = ReviewSettings.objects.get_or_create(workshop=workshop)
    return settings


def user_emails(*, user) -> list[str]:
    profile = Profile.objects.filter(user=user).first()
    if profile:
        return profile.all_emails()
    emails = [user.email] + [e.email for e in user.emailaddress_set.all()]
    return sorted({e.lower() for e in emails if e})


def papers_under_review(*, workshop: Workshop) -> QuerySet[Paper]:
    return Paper.objects.filter(
        workshop=workshop,
        status__in=[
            Paper.Status.SUBMITTED,
            Paper.Status.ACCEPTED,
            Paper.Status.REJECTED,
        ],
    )


def authored_paper_ids(*, workshop: Workshop, user, confirmed_only: bool = False) -> set[int]:
    """Papers of the edition that the user is an author or the submitter of. For conflicts every
    address the user listed counts; for an author's rights (`confirmed_only`) only verified ones."""
    if confirmed_only:
        from allauth.account.models import EmailAddress

        emails = [
            e.lower()
            for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
        ]
    else:
        emails = user_emails(user=user)
    return set(
        PaperAuthor.objects.filter(paper__workshop=workshop)
        .filter(Q(user=user) | Q(email__in=emails))
        .values_list("paper_id", flat=True)
    ) | set(Paper.objects.filter(workshop=workshop, submitter=user).values_list("id", flat=True))


def conflicted_paper_ids(*, workshop: Workshop, user) -> set[int]:
    """Papers the user may not see as a committee member: active conflicts, "in conflict" bids and
    the user's own papers."""
    ids = set(
        Conflict.objects.filter(paper__workshop=workshop, user=user, state__in=ACTIVE_CONFLICT).values_list(
            "paper_id", flat=True
        )
    )
    ids |= set(
        Bid.objects.filter(paper__workshop=workshop, user=user, value=Bid.Value.CONFLICT).values_list(
            "paper_id", flat=True
        )
    )
    return ids | authored_paper_ids(workshop=workshop, user=user)


def is_conflicted(*, paper: Paper, user) -> bool:
    return paper.id in conflicted_paper_ids(workshop=paper.workshop, user=user)


def conflicted_pairs(*, workshop: Workshop) -> set[tuple[int, int]]:
    """Every (paper id, user id) that may not be assigned, for the whole edition."""
    pairs = set(
        Conflict.objects.filter(paper__workshop=workshop, state__in=ACTIVE_CONFLICT).values_list(
            "paper_id", "user_id"
        )
    )
    pairs |= set(
        Bid.objects.filter(paper__workshop=workshop, value=Bid.Value.CONFLICT).values_list(
            "paper_id", "user_id"
        )
    )
    pairs |= {
        (p, u)
        for p, u in PaperAuthor.objects.filter(paper__workshop=workshop, user__isnull=False).values_list(
            "paper_id", "user_id"
        )
    }
    for member in committee_users(workshop=workshop):
        pairs |= {(p, member.id) for p in authored_paper_ids(workshop=workshop, user=member)}
    return pairs


def committee_users(*, workshop: Workshop, roles=(Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR)):
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(memberships__workshop=workshop, memberships__role__in=roles)
        .distinct()
        .order_by("id")
    )


def reviewer_load(*, workshop: Workshop, user) -> int:
    profile = ReviewerProfile.objects.filter(workshop=workshop, user=user).first()
    if profile and profile.max_load is not None:
        return profile.max_load
    return review_settings_get(workshop=workshop).default_max_load


def papers_for_bidding(
    *, workshop: Workshop, user, topic: int | None = None, query: str = ""
) -> QuerySet[Paper]:
    papers = papers_under_review(workshop=workshop).exclude(
        id__in=conflicted_paper_ids(workshop=workshop, user=user)
    )
    if topic:
        papers = papers.filter(topics__id=topic)
    if query:
        papers = papers.filter(Q(title__icontains=query) | Q(abstract__icontains=query))
    return papers.distinct().prefetch_related("topics").order_by("number")


def assignment_for(*, paper: Paper, user) -> Assignment | None:
    """The user's committed, non-conflicted assignment on the paper."""
    assignment = Assignment.objects.filter(paper=paper, user=user, state=Assignment.State.COMMITTED).first()
    if assignment is None or is_conflicted(paper=paper, user=user):
        return None
    return assignment


def assignments_of_reviewer(*, workshop: Workshop, user) -> list[Assignment]:
    conflicted = conflicted_paper_ids(workshop=workshop, user=user)
    return [
        a
        for a in Assignment.objects.filter(
            paper__workshop=workshop, user=user, state=Assignment.State.COMMITTED
        )
        .select_related("paper", "review")
        .order_by("paper__number")
        if a.paper_id not in conflicted
    ]


def submitted_reviews(*, paper: Paper) -> list[Review]:
    return list(
        Review.objects.filter(
            assignment__paper=paper,
            assignment__state=Assignment.State.COMMITTED,
            state=Review.State.SUBMITTED,
        )
        .select_related("assignment")
        .order_by("assignment__number")
    )


def released_decision(*, paper: Paper) -> Decision | None:
    return Decision.objects.filter(paper=paper, released_at__isnull=False).first()


@dataclass
class PaperScores:
    paper: Paper
    ratings: list[int]
    confidences: list[int]
    assigned: int
    decision: Decision | None

    @property
    def mean(self) -> float | None:
        return round(statistics.fmean(self.ratings), 2) if self.ratings else None

    @property
    def spread(self) -> int | None:
        return max(self.ratings) - min(self.ratings) if self.ratings else None

    @property
    def confidence(self) -> float | None:
        return round(statistics.fmean(self.confidences), 2) if self.confidences else None


SORT_KEYS = {
    "number": lambda s: s.paper.number,
    "mean": lambda s: (s.mean is None, -(s.mean or 0)),
    "spread": lambda s: (s.spread is None, -(s.spread or 0)),
    "confidence": lambda s: (s.confidence is None, -(s.confidence or 0)),
    "reviews": lambda s: len(s.ratings),
    "decision": lambda s: s.decision.outcome if s.decision else "",
}


def decision_dashboard(*, workshop: Workshop, sort: str = "mean", user=None) -> list[PaperScores]:
    """Scores of every paper under review, sorted; papers the user is conflicted with are left out."""
    hidden = conflicted_paper_ids(workshop=workshop, user=user) if user else set()
    rows = []
    papers = papers_under_review(workshop=workshop).exclude(id__in=hidden).select_related("decision")
    for paper in papers:
        reviews = submitted_reviews(paper=paper)
        rows.append(
            PaperScores(
                paper=paper,
                ratings=[r.rating for r in reviews if r.rating],
                confidences=[r.confidence for r in reviews if r.confidence],
                assigned=paper.assignments.filter(state=Assignment.State.COMMITTED).count(),
                decision=getattr(paper, "decision", None),
            )
        )
    return sorted(rows, key=SORT_KEYS.get(sort, SORT_KEYS["mean"]))
