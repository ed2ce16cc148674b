"""Every quota is checked and consumed inside the transaction that creates the row, under a lock: 20
requests at the same moment against a limit of 5 get exactly 5 through (real PostgreSQL, one database
connection per thread, as gunicorn threads would have)."""

import threading

import pytest
from django.db import connection

from challenges import services as challenge_services
from challenges.models import Submission
from evaluation import services as evaluation_services
from evaluation.models import RuntimeJob
from tests.challenges.conftest import denoising, ground_truth_bytes, live, participant  # noqa: F401
from tests.challenges.test_services import results_for
from tests.evaluation.conftest import device_host, host_cpu  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
REQUESTS, LIMIT = 20, 5


def at_once(call) -> list[object]:
    """Runs call() in REQUESTS threads released together; returns each one's result or exception."""
    barrier = threading.Barrier(REQUESTS)
    outcomes: list[object] = [None] * REQUESTS

    def run(i):
        barrier.wait(timeout=60)
        try:
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the refusal is the outcome we count
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def test_runtime_checks_per_hour(host_cpu, make_user, tflite_models, settings):
    settings.EVALUATION_RATE_LIMIT = LIMIT
    settings.EVALUATION_MAX_ACTIVE_JOBS = REQUESTS
    owner = make_user()
    model = tflite_models["conv_int8"].read_bytes()
    outcomes = at_once(
        lambda: evaluation_services.runtime_job_create(
            owner=owner, model_file=model, device="host-cpu", accelerator="cpu"
        )
    )
    created = [o for o in outcomes if isinstance(o, RuntimeJob)]
    refused = [o for o in outcomes if isinstance(o, evaluation_services.RateLimited)]
    assert (len(created), len(refused)) == (LIMIT, REQUESTS - LIMIT)
    assert RuntimeJob.objects.filter(owner=owner).count() == LIMIT


def test_validation_submissions_per_day(denoising, participant):
    denoising.submissions_per_day = LIMIT
    denoising.save()
    user = participant(denoising, "Crowd")
    data = results_for(denoising.result_format, ground_truth_bytes(denoising))
    outcomes = at_once(
        lambda: challenge_services.submission_create(challenge=denoising, user=user, name="r.zip", data=data)
    )
    created = [o for o in outcomes if isinstance(o, Submission)]
    refused = [o for o in outcomes if isinstance(o, challenge_services.ChallengeError)]
    assert (len(created), len(refused)) == (LIMIT, REQUESTS - LIMIT)
    assert all("submissions for today" in str(r) for r in refused)
    assert Submission.objects.filter(challenge=denoising).count() == LIMIT
