"""Reads of the workshop side: editions, their dates (own and contributed by other apps)."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import Http404

from .models import ImportantDate, Paper, PaperVersion, Workshop


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
    return sorted(events, key=lambda e: (e.at, e.category, e.title))


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
