"""The important dates editor: order rules, the plan of a change, and applying it with its log.

A date is *published* once it exists: moving or removing an existing date goes through a confirmation
page and each such change is written to `DateChangeLog` (who, which date, old, new, when). Adding a
date needs no confirmation. The plan the chair confirms carries a fingerprint of the dates it was
made from: if someone changed them meanwhile, the confirmation is refused and the editor shown again.
The review deadline is also the reviewing settings' deadline (reminders, late reviewers): applying a
plan keeps the two equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from conference.models import ImportantDate, Workshop
from conference.reviewing.domain.review_settings import review_settings_ensure, review_settings_update
from conference.templatetags.workshop_time import format_in_zone

from ..models import DateChangeLog

K = ImportantDate.Kind

# (later kind, earlier kind, why): the later one must come strictly after the earlier one. The review
# deadline is not tied to the challenge paper deadline: as at MAI 2021, challenge papers (due later)
# may get a short review round of their own before the notification.
ORDER_RULES: list[tuple[str, str, str]] = [
    (K.PAPER_DEADLINE, K.SUBMISSION_OPEN, "papers are submitted after the submission server opens"),
    (K.CHALLENGE_PAPER_DEADLINE, K.SUBMISSION_OPEN, "papers are submitted after the submission server opens"),
    (K.REVIEW_DEADLINE, K.PAPER_DEADLINE, "reviews come after submission"),
    (K.NOTIFICATION, K.REVIEW_DEADLINE, "decisions come after the reviews"),
    (K.NOTIFICATION, K.PAPER_DEADLINE, "decisions come after submission"),
    (K.NOTIFICATION, K.CHALLENGE_PAPER_DEADLINE, "decisions come after submission"),
    (K.CAMERA_READY, K.NOTIFICATION, "the camera-ready version comes after the decisions"),
    (K.WORKSHOP, K.CAMERA_READY, "the workshop comes after the camera-ready deadline"),
]


@dataclass
class PlannedDate:
    """One row of the editor after it was read: an existing date (`pk`) or a new one (`pk` None)."""

    pk: int | None
    kind: str
    label: str
    at: dt.datetime | None  # None: remove this existing date

    def title(self) -> str:
        return self.label or K(self.kind).label


@dataclass
class DateChange:
    pk: int
    title: str
    old_at: dt.datetime
    new_at: dt.datetime | None


@dataclass
class DatePlan:
    rows: list[PlannedDate]
    changes: list[DateChange]  # moved or removed existing dates: need confirmation
    added: list[PlannedDate]
    fingerprint: str

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.changes)

    def to_payload(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "rows": [
                {"pk": r.pk, "kind": r.kind, "label": r.label, "at": r.at.isoformat() if r.at else None}
                for r in self.rows
            ],
        }


def dates_fingerprint(*, workshop: Workshop) -> str:
    """Changes whenever any of the edition's dates changes (a plan made from older dates is stale)."""
    rows = (
        ImportantDate.objects.filter(workshop=workshop)
        .order_by("pk")
        .values_list("pk", "kind", "label", "at")
    )
    return hashlib.sha256(
        repr([(pk, k, lbl, at.isoformat()) for pk, k, lbl, at in rows]).encode()
    ).hexdigest()[:32]


def dates_order_errors(*, workshop: Workshop, rows: list[PlannedDate]) -> list[str]:
    """Every broken rule, as a sentence naming both dates in the workshop's zone."""
    errors: list[str] = []
    by_kind: dict[str, list[PlannedDate]] = {}
    for row in rows:
        if row.at is not None:
            by_kind.setdefault(row.kind, []).append(row)
    for kind, same in by_kind.items():
        if kind != K.OTHER and len(same) > 1:
            errors.append(
                f"“{K(kind).label}” is set {len(same)} times: keep one (use “Other” for extra dates)."
            )
    for later, earlier, why in ORDER_RULES:
        if later in by_kind and earlier in by_kind:
            a, b = by_kind[later][0], by_kind[earlier][0]
            if a.at <= b.at:
                errors.append(
                    f"{a.title()} ({format_in_zone(a.at, workshop.time_zone)}) must be after "
                    f"{b.title()} ({format_in_zone(b.at, workshop.time_zone)}): {why}."
                )
    return errors


def dates_plan(*, workshop: Workshop, rows: list[PlannedDate]) -> DatePlan:
    """Checks the editor's rows and says what would change. Raises ValidationError with every order
    error; rows naming an unknown date are refused."""
    current = {d.pk: d for d in ImportantDate.objects.filter(workshop=workshop)}
    unknown = [r.pk for r in rows if r.pk is not None and r.pk not in current]
    if unknown:
        raise ValidationError("Some dates were removed meanwhile by someone else: reload the page.")
    listed = {r.pk for r in rows if r.pk is not None}
    # Existing dates the form did not list stay as they are.
    full = rows + [
        PlannedDate(pk=d.pk, kind=d.kind, label=d.label, at=d.at)
        for pk, d in current.items()
        if pk not in listed
    ]
    errors = dates_order_errors(workshop=workshop, rows=full)
    if errors:
        raise ValidationError(errors)
    changes, added = [], []
    for row in rows:
        if row.pk is None:
            if row.at is not None:
                added.append(row)
            continue
        old = current[row.pk]
        if row.at is None or row.at != old.at:
            changes.append(DateChange(pk=row.pk, title=old.title, old_at=old.at, new_at=row.at))
    return DatePlan(rows=rows, changes=changes, added=added, fingerprint=dates_fingerprint(workshop=workshop))


def dates_plan_from_payload(*, workshop: Workshop, payload: dict) -> DatePlan:
    """The plan a confirmation page carried, checked again; refused when the dates changed since."""
    if payload.get("fingerprint") != dates_fingerprint(workshop=workshop):
        raise ValidationError(
            "The dates were changed by someone else since you made this change: check them again below."
        )
    rows = [
        PlannedDate(
            pk=r["pk"],
            kind=r["kind"],
            label=r["label"],
            at=dt.datetime.fromisoformat(r["at"]) if r["at"] else None,
        )
        for r in payload["rows"]
    ]
    return dates_plan(workshop=workshop, rows=rows)


@transaction.atomic
def dates_apply(*, workshop: Workshop, plan: DatePlan, by, confirmed: bool) -> int:
    """Writes the plan. Moving or removing an existing date needs `confirmed` (the chair saw the
    confirmation page); each such change is logged. Returns the number of dates changed or added."""
    Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
    if plan.fingerprint != dates_fingerprint(workshop=workshop):
        raise ValidationError("The dates were changed by someone else meanwhile: check them again.")
    if plan.needs_confirmation and not confirmed:
        raise ValidationError("Moving or removing a published date needs your confirmation.")
    current = {d.pk: d for d in ImportantDate.objects.filter(workshop=workshop)}
    written = 0
    for row in plan.rows:
        if row.pk is None:
            if row.at is not None:
                ImportantDate.objects.create(workshop=workshop, kind=row.kind, label=row.label, at=row.at)
                written += 1
            continue
        date = current[row.pk]
        if row.at is None:
            DateChangeLog.objects.create(
                workshop=workshop,
                important_date=None,
                title=date.title,
                old_at=date.at,
                new_at=None,
                changed_by=by,
            )
            date.delete()
            written += 1
            continue
        if row.at != date.at:
            DateChangeLog.objects.create(
                workshop=workshop,
                important_date=date,
                title=date.title,
                old_at=date.at,
                new_at=row.at,
                changed_by=by,
            )
            written += 1
        if (row.at, row.kind, row.label) != (date.at, date.kind, date.label):
            date.at, date.kind, date.label = row.at, row.kind, row.label
            date.save(update_fields=["at", "kind", "label"])
    _sync_review_deadline(workshop)
    return written


def _sync_review_deadline(workshop: Workshop) -> None:
    deadline = (
        ImportantDate.objects.filter(workshop=workshop, kind=K.REVIEW_DEADLINE)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    if deadline is None:
        return
    config = review_settings_ensure(workshop=workshop)
    if config.review_deadline != deadline:
        review_settings_update(config=config, fields={"review_deadline": deadline})
