"""Celery tasks of reviewing, thin callers of the services: the periodic reminder to reviewers whose
reviews are due or late; the assignment run (queue `scoring`), the e-mails of a committed assignment
and the sweep of dead runs."""

from celery import shared_task

from .assignment_services import assignment_mails_send, assignment_run_execute, assignment_runs_sweep
from .domain.reviews import reminders_send


@shared_task(name="reviewing.send_review_reminders", acks_late=True, reject_on_worker_lost=True)
def send_review_reminders() -> int:
    return reminders_send()


@shared_task(name="reviewing.compute_assignment", queue="scoring", acks_late=True, reject_on_worker_lost=True)
def compute_assignment(run_id: int) -> str:
    """Computes one assignment run (see `assignment_services`); a redelivered message is a no-op once
    the run has ended."""
    run = assignment_run_execute(run_id=run_id)
    return run.state if run else "missing"


@shared_task(name="reviewing.send_assignment_mails", acks_late=True)
def send_assignment_mails(dispatch_ids: list[int]) -> dict:
    """Hands the e-mails of a committed assignment (one per reviewer) to the broker."""
    return assignment_mails_send(dispatch_ids=dispatch_ids)


@shared_task(name="reviewing.sweep_assignment_runs", acks_late=True)
def sweep_assignment_runs() -> int:
    """Periodic: marks failed the assignment runs whose worker vanished (beat, every 30–60 s)."""
    return assignment_runs_sweep()
