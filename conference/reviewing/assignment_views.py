"""The chair's assignment pages beyond the main one (`views.assignment`): a run's progress page and its
htmx-polled status fragment, and the confirmation page of the commit. Thin callers of
`assignment_services` (reads through `assignment_selectors` and `selectors`); every page is for the edition's chairs only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from common.forms import add_refusal_to_messages
from conference.selectors import workshop_get

from . import assignment_selectors, assignment_services, selectors
from .models import AssignmentRun


def _chair(request, slug):
    workshop = workshop_get(slug=slug, user=request.user)
    if not request.user.has_perm("reviewing.chair_workshop", workshop):
        raise PermissionDenied("Only the chairs of this edition can open this page.")
    return workshop


def _run(ws, pk) -> AssignmentRun:
    run = selectors.assignment_run_get(workshop=ws, pk=pk)
    if run is None:
        raise Http404("No such assignment run.")
    return run


def _run_context(ws, run):
    end = run.finished_at or timezone.now()
    start = run.started_at or run.created_at
    return {
        "workshop": ws,
        "run": run,
        "elapsed_s": max(0, int((end - start).total_seconds())),
        "waited_s": int(((run.started_at or end) - run.created_at).total_seconds()),
    }


@login_required
def assignment_run(request, workshop, pk):
    """The progress page of one run: stage, percentage, elapsed time, then its result or failure."""
    ws = _chair(request, workshop)
    assignment_services.assignment_runs_sweep(workshop=ws)
    run = _run(ws, pk)
    return render(request, "reviewing/assignment_run.html", _run_context(ws, run))


@login_required
def assignment_run_status(request, workshop, pk):
    """The status fragment, polled every second while the run is queued or running. Each poll also
    checks that the run's worker is alive (a dead one is marked failed with the reason)."""
    ws = _chair(request, workshop)
    assignment_services.assignment_runs_sweep(workshop=ws)
    run = _run(ws, pk)
    return render(request, "reviewing/_assignment_run_status.html", _run_context(ws, run))


@login_required
def assignment_commit(request, workshop):
    """Confirmation of the commit: counts and warnings, then the commit of exactly what was shown."""
    ws = _chair(request, workshop)
    if request.method == "POST":
        try:
            count = assignment_services.assignments_commit(
                workshop=ws, fingerprint=request.POST.get("fingerprint", ""), user=request.user
            )
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
            return redirect("reviewing:assignment-commit", workshop=ws.slug)
        messages.success(
            request, f"{count} assignment(s) committed; each reviewer gets one e-mail with their papers."
        )
        return redirect("reviewing:assignment", workshop=ws.slug)
    check = assignment_selectors.assignment_commit_check(workshop=ws)
    return render(request, "reviewing/assignment_commit.html", {"workshop": ws, "check": check})
