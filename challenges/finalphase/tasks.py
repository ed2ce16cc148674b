"""Celery tasks of the final phase: thin callers of `services` that take ids. The fidelity job runs on
the `scoring` queue; starting the runtime job (which `evaluation` sends to the device's own queue) on
`default`."""

from celery import shared_task

from .services import recovery, submissions


@shared_task(name="finalphase.run_fidelity", acks_late=True, reject_on_worker_lost=True)
def run_fidelity(submission_id: int) -> None:
    submissions.model_submission_run_fidelity(submission_id=submission_id)


@shared_task(name="finalphase.start_runtime", acks_late=True, reject_on_worker_lost=True)
def start_runtime(submission_id: int) -> None:
    submissions.model_submission_start_runtime(submission_id=submission_id)


@shared_task(name="finalphase.recover_stale_submissions", acks_late=True)
def recover_stale_submissions() -> dict:
    """The sweep (beat): lost or stuck fidelity and runtime steps are dispatched again or failed."""
    return recovery.model_submissions_recover_stale()
