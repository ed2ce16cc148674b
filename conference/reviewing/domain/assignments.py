"""Assignments by hand, and an assignment run computed in this process.

State machine of an assignment: proposed (the chair's preview, replaced by each run, editable by
hand) → committed (numbered "Reviewer n", reviewer notified, kept by later runs). The queued run, its
sweep, the preview and the commit live in `conference.reviewing.assignment_services`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from conference.models import Membership, Paper, Workshop

from .. import selectors
from ..assignment_services import assignment_run_execute, run_options_clean, run_options_remember
from ..models import Assignment, AssignmentRun, Review
from .review_settings import review_settings_ensure


def assignment_run(*, workshop: Workshop, k: int | None = None, user=None, **options) -> dict:
    """Computes an assignment run in this process (tests, shell, seeds); pages queue it as a task
    instead (`assignment_services.assignment_run_start`). Returns the run's summary."""
    config = review_settings_ensure(workshop=workshop)
    if k is not None and k < 1:
        raise ValidationError("Reviewers per paper must be at least 1.")
    options = run_options_clean(config=config, data={"k": k, **options})
    run_options_remember(config=config, options=options)
    run = AssignmentRun.objects.create(workshop=workshop, options=options, created_by=user)
    run = assignment_run_execute(run_id=run.pk)
    if run.state == AssignmentRun.State.FAILED:
        raise ValidationError(run.error)
    return run.summary


@transaction.atomic
def assignment_add(*, paper: Paper, user) -> Assignment:
    """A chair assigns by hand (as a proposal, committed with the rest). Conflicts are refused."""
    if not Membership.objects.filter(
        workshop=paper.workshop, user=user, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
    ).exists():
        raise ValidationError("Only committee reviewers can be assigned.")
    if (paper.id, user.id) in selectors.conflicted_pairs(workshop=paper.workshop):
        raise ValidationError(
            f"This reviewer has a conflict of interest with paper #{paper.number}: "
            "dismiss the conflict first if it is wrong."
        )
    assignment, created = Assignment.objects.get_or_create(paper=paper, user=user, defaults={"manual": True})
    if not created:
        raise ValidationError("This reviewer is already assigned to the paper.")
    return assignment


@transaction.atomic
def assignment_remove(*, assignment: Assignment) -> None:
    """A chair removes a reviewer from a paper, unless their review is submitted."""
    review = getattr(assignment, "review", None) if hasattr(assignment, "review") else None
    if review is not None and review.state == Review.State.SUBMITTED:
        raise ValidationError("This reviewer has submitted a review: it cannot be removed.")
    assignment.delete()
