"""Reads of the workshop side: editions, their dates (own and contributed by other apps)."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet
from django.http import Http404

from .models import ImportantDate, Workshop


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
