"""Reads of the review process, as keyword-only `<entity>_<action>` functions: who is conflicted with
what, what a reviewer may see, the rows each page shows, the chair's dashboards. Selectors never
write (the writes are in `domain/`). Conflicts never depend on detection having run: a paper's own
authors are always conflicted, whatever the Conflict rows say."""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from common.urls import absolute_url
from conference.models import Membership, Paper, PaperAuthor, Profile, Workshop

from . import conflicts as conflict_rules
from .models import (
    Assignment,
    AssignmentRun,
    Bid,
    Comment,
    Conflict,
    Decision,
    Invitation,
    MetaReview,
    Review,
    ReviewerProfile,
    ReviewSettings,
)

ACTIVE_CONFLICT = [Conflict.State.SUGGESTED, Conflict.State.CONFIRMED]


def review_settings_get(*, workshop: Workshop) -> ReviewSettings:
    """The edition's review settings; an unsaved row with the defaults when none is stored yet (the
    services that change settings store it: `domain.review_settings.review_settings_ensure`)."""
    return ReviewSettings.objects.filter(workshop=workshop).first() or ReviewSettings(workshop=workshop)


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
    return list(
        get_user_model()
        .objects.filter(memberships__workshop=workshop, memberships__role__in=roles)
        .distinct()
        .order_by("id")
    )


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


def chaired_workshop_ids(*, user) -> set[int]:
    """Editions the user chairs (every edition for a superuser is left to the caller)."""
    return set(
        Membership.objects.filter(user=user, role=Membership.Role.CHAIR).values_list("workshop_id", flat=True)
    )


def workshops_chaired(*, user) -> QuerySet[Workshop]:
    return Workshop.objects.filter(id__in=chaired_workshop_ids(user=user))


def paper_ids_visible_to_chair(*, user) -> set[int]:
    """Papers whose reviewing a (non-superuser) chair may see, exactly as the chair pages filter them:
    papers of the editions they chair, minus those they are conflicted with (their own included)."""
    visible: set[int] = set()
    for workshop in workshops_chaired(user=user):
        ids = set(Paper.objects.filter(workshop=workshop).values_list("id", flat=True))
        visible |= ids - conflicted_paper_ids(workshop=workshop, user=user)
    return visible


@dataclass
class ReleaseSummary:
    """What releasing the pending decisions would do, for the chair's confirmation page. Per-paper
    warnings name only papers the chair may see; the others are counted."""

    accept: int
    reject: int
    recipients: int
    hidden: int
    missing_reviews: list[tuple[Paper, int, int]]  # (paper, submitted, assigned — or k if none)
    missing_meta: list[Paper]
    undecided: int
    fingerprint: str


def release_fingerprint(*, workshop: Workshop) -> str:
    """A digest of the pending decisions: a confirmation is valid only for what it showed."""
    rows = Decision.objects.filter(paper__workshop=workshop, released_at__isnull=True).order_by("id")
    text = ";".join(f"{pk}:{outcome}" for pk, outcome in rows.values_list("id", "outcome"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def release_summary(*, workshop: Workshop, user) -> ReleaseSummary:
    hidden_ids = conflicted_paper_ids(workshop=workshop, user=user)
    k = review_settings_get(workshop=workshop).reviewers_per_paper
    pending = list(
        Decision.objects.filter(paper__workshop=workshop, released_at__isnull=True)
        .select_related("paper")
        .annotate(
            assigned=Count(
                "paper__assignments",
                filter=Q(paper__assignments__state=Assignment.State.COMMITTED),
                distinct=True,
            ),
            submitted=Count(
                "paper__assignments",
                filter=Q(
                    paper__assignments__state=Assignment.State.COMMITTED,
                    paper__assignments__review__state=Review.State.SUBMITTED,
                ),
                distinct=True,
            ),
        )
        .order_by("paper__number")
    )
    with_meta = set(
        MetaReview.objects.filter(paper__workshop=workshop)
        .exclude(text="")
        .values_list("paper_id", flat=True)
    )
    visible = [d for d in pending if d.paper_id not in hidden_ids]
    decided = set(Decision.objects.filter(paper__workshop=workshop).values_list("paper_id", flat=True))
    undecided = (
        papers_under_review(workshop=workshop)
        .filter(status=Paper.Status.SUBMITTED)
        .exclude(id__in=decided | hidden_ids)
        .count()
    )
    return ReleaseSummary(
        accept=sum(1 for d in pending if d.outcome == Decision.Outcome.ACCEPT),
        reject=sum(1 for d in pending if d.outcome == Decision.Outcome.REJECT),
        recipients=PaperAuthor.objects.filter(paper__in=[d.paper_id for d in pending])
        .values("email")
        .distinct()
        .count(),
        hidden=len(pending) - len(visible),
        missing_reviews=[
            (d.paper, d.submitted, d.assigned or k) for d in visible if d.submitted < (d.assigned or k)
        ],
        missing_meta=[d.paper for d in visible if d.paper_id not in with_meta],
        undecided=undecided,
        fingerprint=release_fingerprint(workshop=workshop),
    )


@dataclass
class Progress:
    """Review progress of one paper or one reviewer: committed assignments by review state."""

    assigned: int = 0
    draft: int = 0
    submitted: int = 0
    late: int = 0
    last_reminded_at: object = None  # datetime | None (reviewers only)

    @property
    def not_started(self) -> int:
        return self.assigned - self.draft - self.submitted


def review_progress(*, workshop: Workshop, user, now) -> tuple[list[tuple[Paper, Progress]], list[tuple]]:
    """The chair's reviewing home: progress per paper and per reviewer over the papers the chair may
    see (conflicted ones are left out of both, counts included). Late = not submitted after the
    review deadline."""
    deadline = review_settings_get(workshop=workshop).review_deadline
    overdue = deadline is not None and now > deadline
    hidden = conflicted_paper_ids(workshop=workshop, user=user)
    papers = list(
        papers_under_review(workshop=workshop)
        .filter(status=Paper.Status.SUBMITTED)
        .exclude(id__in=hidden)
        .order_by("number")
    )
    per_paper = {p.id: Progress() for p in papers}
    per_user: dict[int, Progress] = {}
    rows = Assignment.objects.filter(paper__in=papers, state=Assignment.State.COMMITTED).values_list(
        "paper_id", "user_id", "review__state", "last_reminded_at"
    )
    for paper_id, user_id, state, reminded in rows:
        for progress in (per_paper[paper_id], per_user.setdefault(user_id, Progress())):
            progress.assigned += 1
            if state == Review.State.SUBMITTED:
                progress.submitted += 1
            else:
                progress.draft += state == Review.State.DRAFT
                progress.late += overdue
        mine = per_user[user_id]
        if reminded and (mine.last_reminded_at is None or reminded > mine.last_reminded_at):
            mine.last_reminded_at = reminded
    users = get_user_model().objects.filter(id__in=per_user).select_related("profile").order_by("email")
    return [(p, per_paper[p.id]) for p in papers], [(u, per_user[u.id]) for u in users]


# --- Committee and invitations -------------------------------------------------------------------


def user_has_verified_email(*, user, email: str) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email.strip(), verified=True).exists()


def user_get(*, user_id) -> object | None:
    return get_user_model().objects.filter(pk=user_id).first() if str(user_id).isdecimal() else None


def membership_list(*, workshop: Workshop) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workshop=workshop)
        .select_related("user__profile")
        .order_by("role", "user__email")
    )


def invitation_pending_for_email(*, email: str) -> Invitation | None:
    """A pending committee invitation addressed to `email` (any edition), if there is one."""
    return (
        Invitation.objects.select_related("workshop")
        .filter(email__iexact=email, state=Invitation.State.PENDING)
        .first()
    )


def invitation_list(*, workshop: Workshop) -> QuerySet[Invitation]:
    return Invitation.objects.filter(workshop=workshop)


def invitation_get(*, workshop: Workshop, token: str | None = None, pk=None) -> Invitation | None:
    """One invitation of the edition, by its link's token or by id; None when there is none."""
    if token is not None:
        return Invitation.objects.filter(workshop=workshop, token=token).first()
    return Invitation.objects.filter(workshop=workshop, pk=pk).first() if str(pk).isdecimal() else None


# --- Papers --------------------------------------------------------------------------------------


def paper_by_number(*, workshop: Workshop, number) -> Paper | None:
    if not str(number).isdecimal():
        return None
    return Paper.objects.filter(workshop=workshop, number=number).first()


def paper_numbers(*, workshop: Workshop) -> dict[int, int]:
    """Paper id → paper number, for the whole edition."""
    return dict(Paper.objects.filter(workshop=workshop).values_list("id", "number"))


def papers_authored(*, workshop: Workshop, user) -> QuerySet[Paper]:
    """The papers the user is a confirmed author of, by number (their reviewing home lists them)."""
    return Paper.objects.filter(
        id__in=authored_paper_ids(workshop=workshop, user=user, confirmed_only=True)
    ).order_by("number")


# --- Conflicts -----------------------------------------------------------------------------------


def conflict_person_for_user(*, user, workshop: Workshop | None = None) -> conflict_rules.Person:
    """What detection knows of a user: addresses, domains, affiliation and, on a committee, the
    conflicts they declared in their reviewer profile of the edition."""
    profile = Profile.objects.filter(user=user).first()
    person = conflict_rules.Person(
        key=user.id,
        emails=set(user_emails(user=user)),
        domains=set(profile.all_domains()) if profile else set(),
        affiliations={profile.affiliation} if profile and profile.affiliation else set(),
    )
    if workshop is not None:
        rp = ReviewerProfile.objects.filter(workshop=workshop, user=user).first()
        if rp:
            person.conflict_institutions = {conflict_rules.normalise(x) for x in rp.conflict_institutions}
            person.conflict_domains = {d.lower() for d in rp.conflict_domains}
            person.conflict_emails = {e.lower() for e in rp.conflict_emails}
    return person


def conflict_people_by_paper(*, workshop: Workshop) -> dict[int, list[conflict_rules.Person]]:
    """Authors of every paper of the edition (withdrawn ones too: co-authorship still counts)."""
    people: dict[int, list[conflict_rules.Person]] = {}
    authors = PaperAuthor.objects.filter(paper__workshop=workshop).select_related("user__profile")
    for author in authors:
        person = conflict_rules.Person(
            key=author.user_id, emails={author.email}, affiliations={author.affiliation}
        )
        if author.user_id:
            extra = conflict_person_for_user(user=author.user)
            person.emails |= extra.emails
            person.domains |= extra.domains
            person.affiliations |= extra.affiliations
        people.setdefault(author.paper_id, []).append(person)
    return people


def conflicts_preview_for_email(*, workshop: Workshop, email: str) -> list[conflict_rules.Found]:
    """Possible conflicts of someone not yet on the committee (before inviting them)."""
    user = get_user_model().objects.filter(email__iexact=email).first()
    person = conflict_person_for_user(user=user) if user else conflict_rules.Person(emails={email})
    return conflict_rules.detect(
        papers=conflict_people_by_paper(workshop=workshop), reviewers={email: person}
    )


def conflict_list_for_chair(*, workshop: Workshop, user, state: str) -> QuerySet[Conflict]:
    """The edition's conflicts in `state` (every state when it is none of them), without those of the
    papers the chair is conflicted with."""
    rows = (
        Conflict.objects.filter(paper__workshop=workshop)
        .select_related("paper", "user", "decided_by")
        .exclude(paper_id__in=conflicted_paper_ids(workshop=workshop, user=user))
    )
    return rows.filter(state=state) if state in Conflict.State.values else rows


def conflict_get(*, workshop: Workshop, pk) -> Conflict | None:
    return Conflict.objects.filter(pk=pk, paper__workshop=workshop).first() if str(pk).isdecimal() else None


def conflict_user_ids_declared_by_authors(*, paper: Paper) -> set[int]:
    return set(
        Conflict.objects.filter(paper=paper, source=Conflict.Source.AUTHOR).values_list("user_id", flat=True)
    )


# --- Bids and assignments ------------------------------------------------------------------------


def bid_values_of_user(*, user, papers) -> dict[int, str]:
    """Paper id → the user's bid, over the given papers."""
    return dict(Bid.objects.filter(user=user, paper__in=papers).values_list("paper_id", "value"))


def papers_to_assign(*, workshop: Workshop, user) -> QuerySet[Paper]:
    """Submitted papers, by number, without those the chair is conflicted with (their own, say): a
    chair never sees who reviews those."""
    return (
        papers_under_review(workshop=workshop)
        .filter(status=Paper.Status.SUBMITTED)
        .exclude(id__in=conflicted_paper_ids(workshop=workshop, user=user))
        .order_by("number")
    )


def assignments_by_paper(*, papers: list[Paper]) -> dict[int, list[Assignment]]:
    """Every assignment (proposed and committed) of the given papers, per paper id, numbered order."""
    by_paper: dict[int, list[Assignment]] = {p.id: [] for p in papers}
    rows = (
        Assignment.objects.filter(paper__in=papers)
        .select_related("user__profile", "review")
        .order_by("paper__number", "number", "id")
    )
    for row in rows:
        by_paper[row.paper_id].append(row)
    return by_paper


def assignment_get(*, workshop: Workshop, pk) -> Assignment | None:
    if not str(pk).isdecimal():
        return None
    return Assignment.objects.filter(pk=pk, paper__workshop=workshop).select_related("paper").first()


def assignments_committed_of_paper(*, paper: Paper) -> QuerySet[Assignment]:
    return paper.assignments.filter(state=Assignment.State.COMMITTED).select_related("review")


def assignment_run_get(*, workshop: Workshop, pk) -> AssignmentRun | None:
    """One assignment run of the edition, without its (large) proposal."""
    return AssignmentRun.objects.defer("proposal").filter(pk=pk, workshop=workshop).first()


# --- Reviews, discussion, decisions --------------------------------------------------------------


def review_get(*, assignment: Assignment | None) -> Review | None:
    return Review.objects.filter(assignment=assignment).first() if assignment is not None else None


def comment_list(*, paper: Paper) -> QuerySet[Comment]:
    return Comment.objects.filter(paper=paper)


def meta_review_get(*, paper: Paper) -> MetaReview | None:
    return MetaReview.objects.filter(paper=paper).first()


def decision_get(*, paper: Paper) -> Decision | None:
    return Decision.objects.filter(paper=paper).first()


def decisions_pending(*, workshop: Workshop) -> list[Decision]:
    """Recorded decisions not released yet."""
    return list(
        Decision.objects.filter(paper__workshop=workshop, released_at__isnull=True).select_related("paper")
    )


def decisions_released_count(*, workshop: Workshop) -> int:
    return Decision.objects.filter(paper__workshop=workshop, released_at__isnull=False).count()


class _SafeDict(dict):
    def __missing__(self, key):
        raise ValidationError(
            f"Unknown placeholder {{{key}}} in the template: use {{workshop}}, {{number}}, "
            "{title}, {decision} or {url}."
        )


def notification_render(*, paper: Paper, subject: str, body: str) -> tuple[str, str]:
    """The chair's decision e-mail (subject and body with `{placeholders}`) for one paper."""
    decision = decision_get(paper=paper)
    values = _SafeDict(
        workshop=paper.workshop.short_name,
        number=paper.number,
        title=paper.title,
        decision=decision.get_outcome_display() if decision else "(no decision)",
        url=absolute_url(
            reverse(
                "reviewing:author-reviews", kwargs={"workshop": paper.workshop.slug, "number": paper.number}
            )
        ),
    )
    try:
        return subject.format_map(values), body.format_map(values)
    except (ValueError, IndexError, AttributeError) as exc:
        raise ValidationError(f"The template is not valid: {exc}. Write placeholders as {{title}}.") from exc
