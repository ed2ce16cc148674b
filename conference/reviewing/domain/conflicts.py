"""Conflicts of interest between committee members and papers.

State machine: suggested (detected) → confirmed | dismissed by a chair; declared ones (by the
reviewer, by the authors, a member's own paper) start confirmed. Detection only inserts missing rows,
so a chair's decision survives every re-run. A confirmed conflict removes the pair's proposed
assignment.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conference.models import Membership, Paper, Workshop

from .. import conflicts as conflict_rules
from .. import selectors
from ..models import Assignment, Conflict

SOURCE_CONFIRMED = {Conflict.Source.AUTHOR_SELF, Conflict.Source.REVIEWER}


def _conflict_rows(
    found: list[conflict_rules.Found], existing: set, numbers: dict[int, int]
) -> list[Conflict]:
    """Unsaved rows for the findings not stored yet, their evidence naming papers by number."""
    rows = []
    for f in found:
        if (f.paper, f.reviewer, f.source) in existing:
            continue
        evidence = re.sub(r"#(\d+)", lambda m: f"#{numbers.get(int(m.group(1)), m.group(1))}", f.evidence)
        state = Conflict.State.CONFIRMED if f.source in SOURCE_CONFIRMED else Conflict.State.SUGGESTED
        rows.append(
            Conflict(
                paper_id=f.paper, user_id=f.reviewer, source=f.source, state=state, evidence=evidence[:500]
            )
        )
    return rows


@transaction.atomic
def conflicts_detect(*, workshop: Workshop, users=None) -> int:
    """Runs detection for the committee (or the given users) and stores conflicts not seen before.
    Existing rows are never changed: dismissed ones stay dismissed. Returns the number of new rows."""
    users = (
        users
        if users is not None
        else selectors.committee_users(workshop=workshop, roles=list(Membership.Role.values))
    )
    reviewers = {u.id: selectors.conflict_person_for_user(user=u, workshop=workshop) for u in users}
    people = selectors.conflict_people_by_paper(workshop=workshop)
    found = conflict_rules.detect(papers=people, reviewers=reviewers)
    existing = set(
        Conflict.objects.filter(paper__workshop=workshop).values_list("paper_id", "user_id", "source")
    )
    new = _conflict_rows(found, existing, selectors.paper_numbers(workshop=workshop))
    Conflict.objects.bulk_create(new)
    new_pairs = {(c.paper_id, c.user_id) for c in new}
    for assignment in Assignment.objects.filter(paper__workshop=workshop, state=Assignment.State.PROPOSED):
        if (assignment.paper_id, assignment.user_id) in new_pairs:
            assignment.delete()
    return len(new)


@transaction.atomic
def conflict_decide(*, conflict: Conflict, confirm: bool, reason: str, user) -> Conflict:
    """A chair confirms or dismisses a conflict; a dismissal needs a reason, kept for the record."""
    reason = reason.strip()
    if not confirm and not reason:
        raise ValidationError("Give a reason for dismissing a conflict: it is kept for the record.")
    conflict.state = Conflict.State.CONFIRMED if confirm else Conflict.State.DISMISSED
    conflict.reason = reason
    conflict.decided_by = user
    conflict.decided_at = timezone.now()
    conflict.save(update_fields=["state", "reason", "decided_by", "decided_at"])
    if confirm:
        Assignment.objects.filter(
            paper=conflict.paper, user=conflict.user, state=Assignment.State.PROPOSED
        ).delete()
    return conflict


@transaction.atomic
def conflict_declare(*, paper: Paper, user, source: str, evidence: str = "") -> Conflict:
    """A declared conflict: confirmed at once, and the pair's proposed assignment dropped."""
    conflict, created = Conflict.objects.get_or_create(
        paper=paper,
        user=user,
        source=source,
        defaults={"state": Conflict.State.CONFIRMED, "evidence": evidence[:500]},
    )
    if not created and conflict.state != Conflict.State.CONFIRMED:
        conflict.state = Conflict.State.CONFIRMED
        conflict.save(update_fields=["state"])
    Assignment.objects.filter(paper=paper, user=user, state=Assignment.State.PROPOSED).delete()
    return conflict


@transaction.atomic
def conflicts_set_by_author(*, paper: Paper, user_ids: set[int]) -> None:
    """The authors' declared conflicts with committee members: exactly `user_ids` from now on."""
    members = {
        u.id: u
        for u in selectors.committee_users(workshop=paper.workshop, roles=list(Membership.Role.values))
    }
    Conflict.objects.filter(paper=paper, source=Conflict.Source.AUTHOR).exclude(user_id__in=user_ids).delete()
    for uid in user_ids & set(members):
        conflict_declare(
            paper=paper, user=members[uid], source=Conflict.Source.AUTHOR, evidence="declared by the authors"
        )
