"""A final-phase measurement queued on a device its operator paused does not wait forever: after
RUNTIME_PAUSED_MAX_WAIT_S the sweep moves it to an active online twin, or fails it with a message that
says the operator paused the device, and the team's submission page shows that message. The clock is
passed to the sweep (no sleeping)."""

import datetime as dt

import pytest
from django.utils import timezone

from challenges.finalphase.models import ModelSubmission
from challenges.finalphase.services import submissions
from evaluation import services
from evaluation.models import Device, DeviceHost, RuntimeJob
from tests import html
from tests.factories import RuntimeJobFactory
from tests.finalphase.conftest import measured

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def paused_phone(db):
    host = DeviceHost.objects.create(name="lab-zurich")
    return Device.objects.create(
        slug="pixel-9-a",
        name="Pixel 9 (A)",
        device_host=host,
        group="pixel-9",
        accelerators=["cpu"],
        status="online",
        last_heartbeat=timezone.now(),
        operator_state="paused",
        operator_state_changed_at=timezone.now(),
    )


def _waiting_submission(challenge, team, participant, device):
    job = RuntimeJobFactory(device=device, owner=participant, purpose=submissions.RUNTIME_PURPOSE)
    submission = measured(challenge, team, psnr=30.0, runtime_ms=None, status="running")
    ModelSubmission.objects.filter(pk=submission.pk).update(
        fidelity_status="done", runtime_status="running", runtime_job_id=job.pk, device_name=""
    )
    return job, submission


def test_a_job_held_on_a_paused_device_fails_after_the_deadline_and_the_team_sees_why(
    settings, client, challenge, team, participant, paused_phone, django_capture_on_commit_callbacks
):
    settings.RUNTIME_PAUSED_MAX_WAIT_S = 6 * 3600
    job, submission = _waiting_submission(challenge, team, participant, paused_phone)
    start = timezone.now()

    assert services.runtime_jobs_recover_stuck(now=start + dt.timedelta(hours=5, minutes=59)) == {
        "requeued": 0,
        "failed": 0,
    }
    assert RuntimeJob.objects.get(pk=job.pk).state == "queued"  # still waits for its operator

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.runtime_jobs_recover_stuck(now=start + dt.timedelta(hours=6, minutes=1))
    assert counts == {"requeued": 0, "failed": 1}
    expected = (
        "Pixel 9 (A) was paused by its operator and did not measure this model within 6 hours, and no "
        "twin device could take it. Submit it again once the device is back (the device lab shows its "
        "state), or ask the organisers."
    )
    assert RuntimeJob.objects.get(pk=job.pk).error_message == expected

    client.force_login(participant)
    page = client.get(submission.get_absolute_url()).content.decode()
    status = html.element(page, **{"data-testid": "final-status"})
    assert html.text(status, **{"data-testid": "status"}) == "Failed"
    runtime_row = html.element(status, **{"data-testid": "runtime"})
    assert html.text(runtime_row, "span", **{"class": "error"}) == expected
    assert html.text(status, **{"data-testid": "error"}) == f"Runtime: {expected}"


def test_a_job_held_on_a_paused_device_moves_to_an_active_twin(challenge, team, participant, paused_phone):
    twin = Device.objects.create(
        slug="pixel-9-b",
        name="Pixel 9 (B)",
        device_host=paused_phone.device_host,
        group="pixel-9",
        accelerators=["cpu"],
        status="online",
        last_heartbeat=timezone.now(),
    )
    job, _ = _waiting_submission(challenge, team, participant, paused_phone)

    later = timezone.now() + dt.timedelta(hours=7)
    assert services.runtime_jobs_recover_stuck(now=later) == {"requeued": 1, "failed": 0}
    assert RuntimeJob.objects.get(pk=job.pk).device_id == twin.pk

    # The paused device's worker, once resumed, finds the job gone from it and drops its old message;
    # the twin's worker runs it.
    services.device_operator_state_set(device=paused_phone, state="active")
    host = paused_phone.device_host
    old = services.runtime_job_claim(uid=job.uid, host=host, device_slug="pixel-9-a", worker="w", holder="a")
    assert old == {"run": False, "reason": "the job moved to another device"}
    assert services.runtime_job_claim(
        uid=job.uid, host=host, device_slug="pixel-9-b", worker="w", holder="b"
    )["run"]
