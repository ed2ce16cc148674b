"""Reads of the assignment pages, as keyword-only `<entity>_<action>` functions: the latest run, the
preview of proposed + committed rows, what committing would do (with the fingerprint the commit
checks), the pairs a conflict forbids among the proposed ones, the per-reviewer loads as the chair
edits them. Selectors never write; `assignment_services` calls them, never the reverse."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from conference.models import Membership, Paper, PaperAuthor, Profile, Workshop

from . import selectors
from .models import Assignment, AssignmentRun, Bid, Conflict, ReviewerProfile


def member_address_owners(*, user_ids) -> tuple[dict[int, str], dict[str, set[int]]]:
    """(user id → account address, address → every member who listed it): account, allauth addresses
    and the profile's other ones."""
    emails = dict(get_user_model().objects.filter(id__in=user_ids).values_list("id", "email"))
    owner: dict[str, set[int]] = {}
    for uid, email in emails.items():
        if email:
            owner.setdefault(email.strip().lower(), set()).add(uid)
    for uid, email in EmailAddress.objects.filter(user_id__in=user_ids).values_list("user_id", "email"):
        owner.setdefault(email.strip().lower(), set()).add(uid)
    for uid, others in Profile.objects.filter(user_id__in=user_ids).values_list("user_id", "other_emails"):
        for email in others or []:
            if email:
                owner.setdefault(str(email).strip().lower(), set()).add(uid)
    return emails, owner


def reviewer_loads_text(*, workshop: Workshop) -> str:
    """The per-reviewer overrides as the chair edits them: `address, minimum, maximum` per line."""
    rows = (
        ReviewerProfile.objects.filter(workshop=workshop)
        .filter(Q(min_load__isnull=False) | Q(max_load__isnull=False))
        .order_by("user__email")
        .values_list("user__email", "min_load", "max_load")
    )
    return "\n".join(f"{e}, {'' if lo is None else lo}, {'' if hi is None else hi}" for e, lo, hi in rows)


def assignment_run_latest(*, workshop: Workshop) -> AssignmentRun | None:
    return AssignmentRun.objects.filter(workshop=workshop).defer("proposal").first()


def assignment_preview(*, workshop: Workshop) -> dict:
    """Figures of proposed + committed rows: load histogram, affinity distribution, reviewers over
    their maximum load, papers short of k (a few aggregate queries)."""
    config = selectors.review_settings_get(workshop=workshop)
    rows = list(
        Assignment.objects.filter(paper__workshop=workshop).values_list("user_id", "affinity", "state")
    )
    members = set(
        Membership.objects.filter(
            workshop=workshop, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
        ).values_list("user_id", flat=True)
    )
    loads = Counter(uid for uid, _, _ in rows)
    histogram = Counter(loads.get(uid, 0) for uid in members)
    bins = Counter(min(max(int(np.floor(a * 4)), -4), 8) / 4 for _, a, _ in rows)
    limits = dict(
        ReviewerProfile.objects.filter(workshop=workshop, max_load__isnull=False).values_list(
            "user_id", "max_load"
        )
    )
    over = {uid: n for uid, n in loads.items() if n > limits.get(uid, config.default_max_load)}
    emails = dict(get_user_model().objects.filter(id__in=list(over)).values_list("id", "email"))
    per_paper = Counter(
        Assignment.objects.filter(paper__workshop=workshop, paper__status=Paper.Status.SUBMITTED).values_list(
            "paper_id", flat=True
        )
    )
    submitted = list(
        Paper.objects.filter(workshop=workshop, status=Paper.Status.SUBMITTED).values_list("id", "number")
    )
    k = config.reviewers_per_paper
    short = sorted(number for pid, number in submitted if per_paper.get(pid, 0) < k)
    affinities = [a for _, a, _ in rows]
    return {
        "load_histogram": sorted(histogram.items()),
        "affinity_histogram": sorted(bins.items()),
        "affinity_mean": round(float(np.mean(affinities)), 3) if affinities else None,
        "proposed": sum(1 for _, _, s in rows if s == Assignment.State.PROPOSED),
        "committed": sum(1 for _, _, s in rows if s == Assignment.State.COMMITTED),
        "over_capacity": sorted(
            (
                (emails.get(uid, str(uid)), n, limits.get(uid, config.default_max_load))
                for uid, n in over.items()
            ),
        ),
        "short_papers": short,
        "k": k,
    }


def assignment_commit_fingerprint(*, workshop: Workshop) -> str:
    """A digest of the proposed rows: the confirmation page commits exactly what it showed."""
    ids = Assignment.objects.filter(paper__workshop=workshop, state=Assignment.State.PROPOSED).values_list(
        "pk", "paper_id", "user_id"
    )
    digest = hashlib.sha256()
    for row in sorted(ids):
        digest.update(f"{row};".encode())
    return digest.hexdigest()[:32]


def assignment_commit_check(*, workshop: Workshop) -> dict:
    """What committing would do, for the confirmation page: counts and warnings."""
    preview = assignment_preview(workshop=workshop)
    proposed = list(
        Assignment.objects.filter(paper__workshop=workshop, state=Assignment.State.PROPOSED).values_list(
            "paper_id", "user_id"
        )
    )
    forbidden = assignment_pairs_forbidden(
        workshop=workshop, paper_ids={p for p, _ in proposed}, user_ids={u for _, u in proposed}
    )
    in_conflict = sum(1 for pair in proposed if pair in forbidden)
    active = AssignmentRun.objects.filter(workshop=workshop, state__in=AssignmentRun.ACTIVE).first()
    return {
        **preview,
        "to_commit": len(proposed) - in_conflict,
        "in_conflict": in_conflict,
        "reviewers_notified": len({u for p, u in proposed if (p, u) not in forbidden}),
        "papers_touched": len({p for p, _ in proposed}),
        "active_run": active,
        "fingerprint": assignment_commit_fingerprint(workshop=workshop),
    }


def assignment_pairs_forbidden(*, workshop: Workshop, paper_ids: set, user_ids: set) -> set[tuple[int, int]]:
    """Conflicted pairs among the proposed ones of the given papers and users, set-based (the same
    rules as the run)."""
    if not paper_ids:
        return set()
    _emails, owner = member_address_owners(user_ids=user_ids)
    # Only conflicts that meet a proposed pair are read (a join), not the edition's hundreds of thousands.
    proposed = Assignment.objects.filter(
        paper_id=OuterRef("paper_id"), user_id=OuterRef("user_id"), state=Assignment.State.PROPOSED
    )
    pairs = set(
        Conflict.objects.filter(paper__workshop=workshop, state__in=selectors.ACTIVE_CONFLICT)
        .filter(Exists(proposed))
        .values_list("paper_id", "user_id")
    )
    pairs |= set(
        Bid.objects.filter(paper__workshop=workshop, value=Bid.Value.CONFLICT)
        .filter(Exists(proposed))
        .values_list("paper_id", "user_id")
    )
    for pid, uid, email in PaperAuthor.objects.filter(paper_id__in=paper_ids).values_list(
        "paper_id", "user_id", "email"
    ):
        if uid is not None:
            pairs.add((pid, uid))
        pairs |= {(pid, who) for who in owner.get((email or "").strip().lower(), ())}
    pairs |= set(
        Paper.objects.filter(id__in=paper_ids, submitter__isnull=False).values_list("id", "submitter_id")
    )
    return pairs
