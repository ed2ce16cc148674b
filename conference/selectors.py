"""Reads of the workshop side: editions, their topics, organisers and dates (own and contributed by
other apps), people's confirmed addresses, and papers (the submission window, an author's list, one
paper with its versions, authors and change log, the chairs' filtered list, counts and CSV rows, the
current version and its review copy, the format rules and identity a PDF check uses).

Every function is keyword-only and only reads; writes are in `conference.services`."""

import datetime as dt
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.apps import apps
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from . import pdfcheck
from .models import ImportantDate, Organiser, Paper, PaperAuthor, PaperChange, PaperVersion, Topic, Workshop


@dataclass(frozen=True)
class DatedEvent:
    """One entry of the important-dates page and the iCalendar feed."""

    title: str
    at: datetime
    category: str  # "Papers" or a challenge's name
    uid: str


def workshop_list_public() -> QuerySet[Workshop]:
    return Workshop.objects.filter(is_public=True)


def workshop_menu() -> QuerySet[Workshop]:
    """The public editions for the header menu (slug and short name only)."""
    return workshop_list_public().only("slug", "short_name")


def workshop_topics(*, workshop: Workshop) -> QuerySet[Topic]:
    return workshop.topics.all()


def workshop_organisers(*, workshop: Workshop) -> QuerySet[Organiser]:
    return workshop.organisers.all()


def workshop_challenges(*, workshop: Workshop) -> QuerySet:
    """The edition's challenges a challenge paper may name (the model through the lazy foreign key:
    this app imports nothing of `challenges`)."""
    challenge_model = Paper._meta.get_field("challenge").related_model
    return challenge_model.objects.filter(workshop=workshop)


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


# --- People ----------------------------------------------------------------------------------------


def user_confirmed_emails(*, user) -> list[str]:
    """The account's address and every address it confirmed, lower-cased and sorted."""
    emails = {user.email.lower()} if user.email else set()
    emails |= {e.email.lower() for e in user.emailaddress_set.filter(verified=True)}
    return sorted(emails)


def user_for_confirmed_email(*, email: str):
    """The account that confirmed this address (only confirmed addresses link: otherwise anyone could
    sign up with a co-author's address and see the paper)."""
    address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    return address.user if address else None


# --- Submission window ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    opens: dt.datetime | None
    deadline: dt.datetime | None  # as published
    closes: dt.datetime | None  # deadline + grace (+ a paper's extension)
    extended: bool = False

    @property
    def shown(self) -> dt.datetime | None:
        """What pages announce: the published deadline (the grace period is not advertised), or
        the paper's extension."""
        return self.closes if self.extended else self.deadline

    def is_open(self, now: dt.datetime) -> bool:
        if self.closes is None:
            return False
        return (self.opens is None or now >= self.opens) and now <= self.closes


def submission_window(*, workshop: Workshop, kind: str, paper: Paper | None = None) -> Window:
    """The window for a kind of paper: opens at `submission_open`, closes at `paper_deadline` (or
    `challenge_paper_deadline` for challenge papers) plus the workshop's grace minutes; a chair's
    extension of one paper moves that paper's close later, never earlier."""
    dates = {d.kind: d.at for d in ImportantDate.objects.filter(workshop=workshop).order_by("-at")}
    K = ImportantDate.Kind
    opens = dates.get(K.SUBMISSION_OPEN)
    deadline = dates.get(K.PAPER_DEADLINE)
    if kind == Paper.Kind.CHALLENGE:
        deadline = dates.get(K.CHALLENGE_PAPER_DEADLINE, deadline)
    closes = deadline + dt.timedelta(minutes=workshop.submission_grace_minutes) if deadline else None
    extended = False
    if (
        paper is not None
        and paper.deadline_extended_until
        and (closes is None or paper.deadline_extended_until > closes)
    ):
        closes, extended = paper.deadline_extended_until, True
    return Window(opens=opens, deadline=deadline, closes=closes, extended=extended)


def submission_windows(*, workshop: Workshop) -> dict[str, Window]:
    """The window of each kind of paper (regular, challenge)."""
    return {kind: submission_window(workshop=workshop, kind=kind) for kind in Paper.Kind.values}


def paper_is_editable(*, paper: Paper, now: dt.datetime | None = None) -> bool:
    if paper.status not in (Paper.Status.DRAFT, Paper.Status.SUBMITTED):
        return False
    return submission_window(workshop=paper.workshop, kind=paper.kind, paper=paper).is_open(
        now or timezone.now()
    )


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
        if q.strip().lstrip("#").isdecimal():
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


def paper_versions(*, paper: Paper) -> list[PaperVersion]:
    """Every version of the paper, newest first."""
    return list(paper.versions.order_by("-number"))


def paper_version_get(*, paper: Paper, number: int) -> PaperVersion:
    version = PaperVersion.objects.filter(paper=paper, number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def paper_authors(*, paper: Paper) -> QuerySet[PaperAuthor]:
    """The authors in their order on the paper."""
    return paper.authors.order_by("order")


def paper_changes(*, paper: Paper, limit: int = 100) -> QuerySet[PaperChange]:
    """The change log, newest first, with who made each change."""
    return paper.changes.select_related("user")[:limit]


def paper_edit_initial(*, paper: Paper) -> tuple[dict, list[dict]]:
    """What the edit form starts from: the paper's fields (with the revision it was loaded at), and
    one row per author."""
    initial = {
        "title": paper.title,
        "abstract": paper.abstract,
        "topics": list(paper.topics.all()),
        "kind": paper.kind,
        "challenge": paper.challenge,
        "dual_submission": paper.dual_submission,
        "dual_submission_id": paper.dual_submission_id,
        "revision": paper.revision,
    }
    authors = [
        {"name": a.name, "email": a.email, "affiliation": a.affiliation} for a in paper_authors(paper=paper)
    ]
    return initial, authors


PAPER_EXPORT_HEADER = [
    "number",
    "title",
    "kind",
    "challenge",
    "status",
    "topics",
    "authors",
    "emails",
    "affiliations",
    "pages",
    "check",
    "warnings",
    "errors",
    "submitted_at",
    "dual_submission_id",
    "extended_until",
]


def paper_export_rows(*, papers) -> list[list]:
    """One row per paper of the chairs' CSV (columns as `PAPER_EXPORT_HEADER`), from papers as
    `paper_list_for_chairs` returns them (authors, topics and versions prefetched)."""
    rows = []
    for paper in papers:
        authors = sorted(paper.authors.all(), key=lambda a: a.order)
        latest = max(paper.versions.all(), key=lambda v: v.number, default=None)
        report = latest.check_report if latest else {}
        rows.append(
            [
                paper.number,
                paper.title,
                paper.kind,
                str(paper.challenge or ""),
                paper.status,
                "; ".join(t.name for t in paper.topics.all()),
                "; ".join(a.name for a in authors),
                "; ".join(a.email for a in authors),
                "; ".join(a.affiliation for a in authors),
                latest.page_count if latest else "",
                latest.check_state if latest else "",
                report.get("warning_count", ""),
                report.get("error_count", ""),
                paper.submitted_at.isoformat() if paper.submitted_at else "",
                paper.dual_submission_id,
                paper.deadline_extended_until.isoformat() if paper.deadline_extended_until else "",
            ]
        )
    return rows


# --- What a PDF check looks for ---------------------------------------------------------------------


def paper_format_rules(*, workshop: Workshop) -> pdfcheck.FormatRules:
    return pdfcheck.FormatRules(
        page_limit=workshop.page_limit,
        references_excluded=workshop.references_excluded,
        paper_size=workshop.paper_size,
        double_column=workshop.double_column,
        body_font_pt=workshop.body_font_pt,
        text_block_in=(workshop.text_block_width_in, workshop.text_block_height_in),
    )


def paper_identity(*, paper: Paper) -> pdfcheck.Identity:
    """The authors' names, e-mails and affiliations, and the chairs' words that are never an identity."""
    authors = list(paper.authors.all())
    return pdfcheck.Identity(
        names=tuple(a.name for a in authors),
        emails=tuple(a.email for a in authors),
        affiliations=tuple({a.affiliation for a in authors if a.affiliation}),
        not_identities=pdfcheck.parse_word_list(paper.workshop.pdf_not_identities),
    )
