"""Celery tasks of `challenges`: thin callers of the services, on the `scoring` queue."""

from celery import shared_task

from .services.submissions import submission_requeue_stale, submission_score


@shared_task(name="challenges.score_submission", queue="scoring", acks_late=True, reject_on_worker_lost=True)
def score_submission(submission_id: int) -> str:
    submission = submission_score(submission_id=submission_id)
    return submission.status if submission else "missing"


@shared_task(name="challenges.requeue_stale_submissions", acks_late=True)
def requeue_stale_submissions() -> int:
    return len(submission_requeue_stale())
