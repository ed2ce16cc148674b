"""Writes of an edition's own settings: a new edition from scratch, the call for papers, format rules,
policies, venue, topics and organisers."""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import get_resolver

from conference.models import Membership, Organiser, Topic, Workshop
from conference.reviewing.models import ReviewerProfile

# The fields each edit page of the console changes (and nothing else).
WORKSHOP_SECTIONS: dict[str, tuple[str, ...]] = {
    "cfp": ("name", "short_name", "description", "call_for_papers", "is_public"),
    "format": (
        "page_limit",
        "references_excluded",
        "double_column",
        "paper_size",
        "language",
        "template_url",
        "body_font_pt",
        "text_block_width_in",
        "text_block_height_in",
        "pdf_not_identities",
    ),
    "policies": (
        "double_blind",
        "dual_submission_with_host_allowed",
        "dual_submission_policy",
        "submission_grace_minutes",
    ),
    "venue": ("host_conference", "host_conference_url", "location", "start_date", "end_date", "time_zone"),
}


def _first_path_segments(patterns) -> set[str]:
    segments = set()
    for pattern in patterns:
        route = str(pattern.pattern).lstrip("^")
        if route in ("", "$") and hasattr(pattern, "url_patterns"):
            segments |= _first_path_segments(pattern.url_patterns)  # included at the root
            continue
        first = route.split("/")[0]
        if re.fullmatch(r"[-A-Za-z0-9_]+", first):
            segments.add(first.lower())
    return segments


def reserved_slugs() -> set[str]:
    """Addresses the site itself uses (/admin/, /accounts/, /api/, /console/, /static/…): an edition
    there would be unreachable."""
    segments = _first_path_segments(get_resolver().url_patterns)
    for prefix in (settings.STATIC_URL, settings.MEDIA_URL):
        first = (prefix or "").strip("/").split("/")[0]
        if first:
            segments.add(first.lower())
    return segments


def edition_names_check(*, slug: str | None = None, short_name: str | None = None, exclude_pk=None) -> None:
    """Raises, per field, what makes an edition's address or short name unusable: taken by another
    edition, or an address of the site itself. The short name is unique because mails about an
    edition are known by the "[short name]" that starts their subject."""
    others = Workshop.objects.exclude(pk=exclude_pk) if exclude_pk else Workshop.objects.all()
    errors = {}
    if slug is not None:
        if slug.lower() in reserved_slugs():
            errors["slug"] = f"The address /{slug}/ is used by the site itself: choose another one."
        elif others.filter(slug__iexact=slug).exists():
            errors["slug"] = f"The address /{slug}/ is already taken by another edition."
    if short_name is not None:
        if "[" in short_name or "]" in short_name:
            errors["short_name"] = "The short name cannot contain square brackets."
        elif others.filter(short_name__iexact=short_name.strip()).exists():
            errors["short_name"] = f"Another edition is already called “{short_name.strip()}”."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def edition_create(
    *,
    slug: str,
    name: str,
    short_name: str,
    host_conference: str,
    start_date,
    end_date,
    time_zone: str,
    by,
) -> Workshop:
    """A new, empty edition (no dates, topics or tracks yet); `by` becomes its chair."""
    edition_names_check(slug=slug, short_name=short_name)
    if end_date < start_date:
        raise ValidationError({"end_date": "The workshop cannot end before it starts."})
    workshop = Workshop(
        slug=slug,
        name=name,
        short_name=short_name,
        host_conference=host_conference,
        start_date=start_date,
        end_date=end_date,
        time_zone=time_zone,
    )
    workshop.full_clean()
    workshop.save()
    Membership.objects.create(workshop=workshop, user=by, role=Membership.Role.CHAIR)
    return workshop


@transaction.atomic
def workshop_update(*, workshop: Workshop, section: str, fields: dict) -> Workshop:
    """Saves one edit page's fields (only those of `section`)."""
    allowed = WORKSHOP_SECTIONS[section]
    if "short_name" in fields and "short_name" in allowed:
        edition_names_check(short_name=fields["short_name"], exclude_pk=workshop.pk)
    for name, value in fields.items():
        if name in allowed:
            setattr(workshop, name, value)
    if workshop.end_date < workshop.start_date:
        raise ValidationError({"end_date": "The workshop cannot end before it starts."})
    workshop.full_clean()
    workshop.save()
    return workshop


def topic_lines(text: str) -> list[str]:
    """One topic per line, blank lines and repeats (case-insensitive) dropped, order kept."""
    seen: dict[str, str] = {}
    for line in text.splitlines():
        name = line.strip()
        if name and name.lower() not in seen:
            seen[name.lower()] = name[:200]
    return list(seen.values())


@transaction.atomic
def topics_update(*, workshop: Workshop, text: str) -> tuple[int, int, list[str]]:
    """Sets the edition's topics to the lines of `text`, in that order. A topic papers or reviewers
    already chose is never deleted: it stays, and is named in the returned list. Returns (added,
    removed, kept because in use)."""
    wanted = topic_lines(text)
    existing = {t.name.lower(): t for t in Topic.objects.filter(workshop=workshop).select_for_update()}
    added = removed = 0
    kept: list[str] = []
    for order, name in enumerate(wanted):
        topic = existing.pop(name.lower(), None)
        if topic is None:
            Topic.objects.create(workshop=workshop, name=name, order=order)
            added += 1
        elif topic.order != order or topic.name != name:
            topic.order, topic.name = order, name
            topic.save(update_fields=["order", "name"])
    for topic in existing.values():
        if topic.papers.exists() or topic_in_reviewer_profiles(topic):
            kept.append(topic.name)
            topic.order = len(wanted) + len(kept)
            topic.save(update_fields=["order"])
        else:
            topic.delete()
            removed += 1
    return added, removed, kept


def topic_in_reviewer_profiles(topic: Topic) -> bool:
    return ReviewerProfile.objects.filter(topics=topic).exists()


def topics_removed_by(*, workshop: Workshop, text: str) -> list[str]:
    """The topics `topics_update` would delete for `text` (left out, and chosen by nobody): what the
    confirmation page lists. Reads only."""
    wanted = {name.lower() for name in topic_lines(text)}
    return [
        t.name
        for t in Topic.objects.filter(workshop=workshop)
        if t.name.lower() not in wanted and not t.papers.exists() and not topic_in_reviewer_profiles(t)
    ]


def state_fingerprint(rows) -> str:
    """A short digest of rows as a page showed them: a confirmation made from an older state is stale."""
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()[:32]


def topics_fingerprint(*, workshop: Workshop) -> str:
    return state_fingerprint(
        Topic.objects.filter(workshop=workshop).order_by("pk").values_list("pk", "name", "order")
    )


def organisers_fingerprint(*, workshop: Workshop) -> str:
    return state_fingerprint(
        Organiser.objects.filter(workshop=workshop)
        .order_by("pk")
        .values_list("pk", "name", "affiliation", "email", "homepage", "order")
    )


def organisers_removed_by(*, workshop: Workshop, rows: list[dict]) -> list[str]:
    """The organisers `organisers_update` would drop for `rows` ("name (affiliation)"). Reads only."""
    kept = {(r["name"], r["affiliation"], r["email"], r["homepage"]) for r in rows}
    return [
        str(o)
        for o in Organiser.objects.filter(workshop=workshop)
        if (o.name, o.affiliation, o.email, o.homepage) not in kept
    ]


@transaction.atomic
def organisers_update(*, workshop: Workshop, rows: list[dict]) -> int:
    """Replaces the edition's organisers by `rows` (name, affiliation, email, homepage), in order."""
    Organiser.objects.filter(workshop=workshop).delete()
    Organiser.objects.bulk_create(
        Organiser(workshop=workshop, order=order, **row) for order, row in enumerate(rows)
    )
    return len(rows)
