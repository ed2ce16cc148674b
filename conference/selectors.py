"""Reads of the workshop side: editions, their dates (own and contributed by other apps), and papers
(an author's list, the chairs' filtered list and counts, the current version and its review copy)."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404

from .models import ImportantDate, Paper, PaperVersion, Topic, Workshop


@dataclass(frozen=True)
class DatedEvent:
    """One entry of the important-dates page and the iCalendar feed."""

    title: str
    at: datetime
    category: str  # "Papers" or a challenge's name
    uid: str


def workshop_list_public() -> QuerySet[Workshop]:
    return Workshop.objects.filter(is_public=True)


def workshop_get(*, slug: str, user=None) -> Workshop:
    workshop = Workshop.objects.filter(slug=slug).first()
    if workshop is None:
        raise Http404("No such workshop edition.")
    if not workshop.is_public and not (user and user.is_staff):
        raise Http404("No such workshop edition.")
    return workshop


def workshop_own_dates(*, workshop: Workshop) -> list[DatedEvent]:
    return [
        DatedEvent(title=d.title, at=d.at, category="Papers", uid=f"date-{d.pk}@{workshop.slug}")
        for d in ImportantDate.objects.filter(workshop=workshop)
    ]


def workshop_dates(*, workshop: Workshop) -> list[DatedEvent]:
    """Every dated event of the edition: the apps that know dates expose `important_dates(workshop)`
    on their AppConfig, so this module needs no import of them."""
    events: list[DatedEvent] = []
    for config in apps.get_app_configs():
        provider = getattr(config, "important_dates", None)
        if provider:
            events.extend(provider(workshop))
    # Stable sort by time only: events of one instant keep their provider's order (a timeline order).
    return sorted(events, key=lambda e: e.at)


def workshop_deadline(*, workshop: Workshop, kind: str) -> ImportantDate | None:
    return ImportantDate.objects.filter(workshop=workshop, kind=kind).order_by("at").first()


# --- Papers --------------------------------------------------------------------------------------
# Author identity is carried only by PaperAuthor (name, email, affiliation, user), Paper.submitter,
# PaperVersion.original / original_name / uploaded_by / supplementary and PaperChange.user/details.
# Reviewer-facing code must use the selectors below that say "review" and nothing else.


def paper_current_version(*, paper: Paper) -> PaperVersion | None:
    """The newest version that passed the blocking PDF checks (None while there is none)."""
    return (
        PaperVersion.objects.filter(
            paper=paper, check_state__in=[PaperVersion.CheckState.PASSED, PaperVersion.CheckState.WARNINGS]
        )
        .order_by("-number")
        .first()
    )


def paper_review_file(*, paper: Paper) -> FieldFile | None:
    """The anonymised review copy of the paper's current version (metadata stripped, stored as
    paper-<number>.pdf in the private storage), or None when there is none yet. Open it with
    `.open("rb")`; serve it under the name `paper_review_file_name(paper=paper)`."""
    version = paper_current_version(paper=paper)
    if version is None or not version.review_copy:
        return None
    return version.review_copy


def paper_review_file_name(*, paper: Paper) -> str:
    return f"paper-{paper.number}.pdf"


def paper_list_for_author(*, user, workshop: Workshop | None = None) -> QuerySet[Paper]:
    """Papers the user submitted or is a linked author of (all editions unless one is given)."""
    papers = Paper.objects.filter(Q(submitter=user) | Q(authors__user=user)).distinct()
    if workshop is not None:
        papers = papers.filter(workshop=workshop)
    return (
        papers.select_related("workshop")
        .prefetch_related("authors", "versions")
        .order_by("-workshop__start_date", "number")
    )


def paper_get(*, workshop: Workshop, number: int) -> Paper:
    paper = (
        Paper.objects.filter(workshop=workshop, number=number)
        .select_related("workshop", "challenge", "submitter")
        .first()
    )
    if paper is None:
        raise Http404("No such paper.")
    return paper


def _latest_version_state() -> Subquery:
    return Subquery(
        PaperVersion.objects.filter(paper=OuterRef("pk")).order_by("-number").values("check_state")[:1]
    )


def paper_list_for_chairs(
    *,
    workshop: Workshop,
    q: str = "",
    kind: str = "",
    status: str = "",
    topic: Topic | None = None,
    check: str = "",
) -> QuerySet[Paper]:
    """The chairs' list with its filters; `latest_check` is the newest version's check state and
    `usable_warnings` the warning count of the current (usable) version."""
    newest = PaperVersion.objects.filter(paper=OuterRef("pk")).order_by("-number")
    papers = Paper.objects.filter(workshop=workshop).annotate(
        latest_check=_latest_version_state(),
        # Cast the JSON values: SQLite hands back a bare number, which a JSON output field cannot read.
        latest_warnings=Subquery(
            newest.annotate(n=Cast(KT("check_report__warning_count"), IntegerField())).values("n")[:1]
        ),
        latest_errors=Subquery(
            newest.annotate(n=Cast(KT("check_report__error_count"), IntegerField())).values("n")[:1]
        ),
    )
    if q:
        match = (
            Q(title__icontains=q)
            | Q(abstract__icontains=q)
            | Q(authors__name__icontains=q)
            | Q(authors__email__icontains=q)
            | Q(authors__affiliation__icontains=q)
        )
        if q.strip().lstrip("#").isdigit():
            match |= Q(number=int(q.strip().lstrip("#")))
        papers = papers.filter(match)
    if kind:
        papers = papers.filter(kind=kind)
    if status:
        papers = papers.filter(status=status)
    if topic is not None:
        papers = papers.filter(topics=topic)
    usable = [PaperVersion.CheckState.PASSED, PaperVersion.CheckState.WARNINGS]
    if check == "warnings":
        papers = papers.filter(latest_check=PaperVersion.CheckState.WARNINGS)
    elif check == "clean":
        papers = papers.filter(latest_check=PaperVersion.CheckState.PASSED)
    elif check == "pending":
        papers = papers.filter(latest_check=PaperVersion.CheckState.PENDING)
    elif check == "errors":
        papers = papers.exclude(versions__check_state__in=usable)
    return (
        papers.distinct()
        .select_related("challenge", "workshop")
        .prefetch_related("topics", "authors", "versions")
        .order_by("number")
    )


def paper_topic_counts(*, workshop: Workshop) -> list[tuple[Topic, int]]:
    """Papers per topic (withdrawn papers not counted), in the workshop's topic order."""
    active = ~Q(papers__status=Paper.Status.WITHDRAWN)
    topics = workshop.topics.annotate(
        n=Count("papers", filter=Q(papers__workshop=workshop) & active, distinct=True)
    )
    return [(t, t.n) for t in topics]


def paper_status_counts(*, workshop: Workshop) -> dict[str, int]:
    rows = Paper.objects.filter(workshop=workshop).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def paper_latest_version(*, paper: Paper) -> PaperVersion | None:
    return paper.versions.order_by("-number").first()
