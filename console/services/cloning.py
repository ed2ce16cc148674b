"""Cloning an edition ("MAI 2022 from MAI 2021"), in one transaction.

Copied: the edition's settings (format rules, policies, call for papers, host conference, venue, time
zone), topics, organisers, important dates, review settings (weights, loads, mail templates), and every
track with its contract, metrics, score formula, final-phase settings, milestones, terms and limits, its
organisers, and its data files that are external links. Every date moves by the same number of days on
the workshop's wall clock (5pm Pacific stays 5pm Pacific, daylight saving time or not).
Not copied: papers, submissions, teams, registrations, invitations, uploaded data files (their contents
stay with the old edition: the result says how many to upload again), runtime jobs, decisions. The chair
who clones becomes a chair of the new edition; the old committee (chairs, area chairs, reviewers) is,
when asked, invited again with new single-use invitations (the reviewing app's own invitations).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from challenges.finalphase.models import FinalPhaseSettings
from challenges.models import Challenge, DataFile, Milestone
from conference.models import ImportantDate, Membership, Organiser, Topic, Workshop
from conference.reviewing.domain.committee import invitation_create
from conference.reviewing.models import ReviewSettings

from .editions import edition_names_check

MAX_DAY_OFFSET = 3660

# Rows of the source edition that the clone leaves behind, by design (see the module docstring).
NOT_COPIED = ("papers", "submissions", "teams", "registrations", "uploaded data files", "runtime jobs")


@dataclass
class CloneResult:
    workshop: Workshop
    topics: int = 0
    organisers: int = 0
    dates: int = 0
    tracks: int = 0
    milestones: int = 0
    external_data_files: int = 0
    uploaded_data_files_left: int = 0
    invitations: int = 0


def _fields(obj: Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """A row's own column values (no primary key, no auto timestamps), to create its copy from."""
    values = {}
    for f in obj._meta.concrete_fields:
        if (
            f.primary_key
            or f.name in exclude
            or getattr(f, "auto_now", False)
            or getattr(f, "auto_now_add", False)
        ):
            continue
        values[f.attname] = getattr(obj, f.attname)
    return values


def _shift(value: dt.datetime | dt.date | None, days: int, zone: zoneinfo.ZoneInfo | None = None):
    """`days` later on the workshop's wall clock: 5pm Pacific stays 5pm Pacific across a change
    between standard and daylight time (a time that falls in a clock-change gap moves on by the gap)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) and zone is not None:
        local = value.astimezone(zone).replace(tzinfo=None) + dt.timedelta(days=days)
        return local.replace(tzinfo=zone).astimezone(dt.UTC)
    return value + dt.timedelta(days=days)


def edition_clone_check(
    *, source: Workshop, slug: str, day_offset: int, short_name: str | None = None
) -> None:
    """Raises what makes the clone impossible, in words the form shows."""
    edition_names_check(slug=slug, short_name=short_name)
    if abs(day_offset) > MAX_DAY_OFFSET:
        raise ValidationError({"day_offset": f"Shift the dates by at most {MAX_DAY_OFFSET} days either way."})
    if source.pk is None:
        raise ValidationError({"source": "Choose the edition to clone."})


@transaction.atomic
def edition_clone(
    *,
    source: Workshop,
    name: str,
    short_name: str,
    slug: str,
    day_offset: int,
    reinvite_committee: bool,
    by,
) -> CloneResult:
    """Creates a new edition from `source` with every date `day_offset` days later (see the module
    docstring for what is and is not copied). `by` becomes its chair."""
    edition_clone_check(source=source, slug=slug, day_offset=day_offset, short_name=short_name)
    workshop = Workshop.objects.create(
        **{
            **_fields(source, exclude=("slug", "name", "short_name")),
            "slug": slug,
            "name": name,
            "short_name": short_name,
            "start_date": _shift(source.start_date, day_offset),
            "end_date": _shift(source.end_date, day_offset),
        }
    )
    result = CloneResult(workshop=workshop)
    zone = source.zone
    Membership.objects.create(workshop=workshop, user=by, role=Membership.Role.CHAIR)

    topics = Topic.objects.bulk_create(
        Topic(**_fields(t, exclude=("workshop",)), workshop=workshop) for t in source.topics.all()
    )
    result.topics = len(topics)
    result.organisers = len(
        Organiser.objects.bulk_create(
            Organiser(**_fields(o, exclude=("workshop",)), workshop=workshop) for o in source.organisers.all()
        )
    )
    result.dates = len(
        ImportantDate.objects.bulk_create(
            ImportantDate(
                **_fields(d, exclude=("workshop", "at")), workshop=workshop, at=_shift(d.at, day_offset, zone)
            )
            for d in source.dates.all()
        )
    )
    config = ReviewSettings.objects.filter(workshop=source).first()
    if config is not None:
        ReviewSettings.objects.create(
            **_fields(config, exclude=("workshop", "review_deadline", "last_run")),
            workshop=workshop,
            review_deadline=_shift(config.review_deadline, day_offset, zone),
            last_run={},
        )
    for challenge in Challenge.objects.filter(workshop=source).prefetch_related("organisers"):
        _clone_track(challenge, workshop, day_offset, zone, result)
    if reinvite_committee:
        result.invitations = _reinvite_committee(source, workshop, by)
    return result


def _clone_track(
    challenge: Challenge, workshop: Workshop, day_offset: int, zone: zoneinfo.ZoneInfo, result: CloneResult
) -> None:
    copy = Challenge.objects.create(**_fields(challenge, exclude=("workshop",)), workshop=workshop)
    copy.organisers.set(challenge.organisers.all())
    result.tracks += 1
    result.milestones += len(
        Milestone.objects.bulk_create(
            Milestone(kind=m.kind, at=_shift(m.at, day_offset, zone), challenge=copy)
            for m in challenge.milestones.all()
        )
    )
    final = FinalPhaseSettings.objects.filter(challenge=challenge).first()
    if final is not None:
        FinalPhaseSettings.objects.create(**_fields(final, exclude=("challenge",)), challenge=copy)
    for data_file in DataFile.objects.filter(challenge=challenge):
        if data_file.external_url and not data_file.file:
            DataFile.objects.create(
                challenge=copy,
                split=data_file.split,
                title=data_file.title,
                description=data_file.description,
                external_url=data_file.external_url,
                size=data_file.size,
                sha256=data_file.sha256,
            )
            result.external_data_files += 1
        else:
            result.uploaded_data_files_left += 1


def _reinvite_committee(source: Workshop, workshop: Workshop, by) -> int:
    """New invitations (mailed, single use, bound to the address) for the source edition's committee
    and chairs, in the role they had; the cloning chair is already a chair."""
    invited = 0
    members = (
        Membership.objects.filter(workshop=source)
        .exclude(user=by)
        .select_related("user__profile")
        .order_by("role", "user__email")
    )
    for membership in members:
        if not membership.user.email:
            continue
        profile = getattr(membership.user, "profile", None)
        invitation_create(
            workshop=workshop,
            email=membership.user.email,
            name=profile.full_name if profile else "",
            role=membership.role,
            invited_by=by,
        )
        invited += 1
    return invited
