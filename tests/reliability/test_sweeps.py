"""The sweeps, called as beat calls them, at instants past their deadlines (`now=`): every unfinished
state ends — work sent again while attempts remain, then failed with a reason — and work whose message
still waits in the outbox is left to the dispatcher."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from common.models import Dispatch
from tests.finalphase.conftest import challenge, make_team, workshop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _mark_sent(at):
    Dispatch.objects.filter(sent_at__isnull=True).update(sent_at=at)


def _host_of_host_cpu():
    """The host that already drives `host-cpu` when the session's device worker registered it (a host
    cannot take over another's device), else a new one."""
    from evaluation.models import DeviceHost

    return DeviceHost.objects.filter(devices__slug="host-cpu").first() or DeviceHost.objects.create(name="h")


def test_a_queued_job_whose_message_was_lost_is_sent_again_then_failed_and_frees_the_limit(
    make_user, tflite_models, settings
):
    from evaluation import services
    from evaluation.models import Device, RuntimeJob
    from evaluation.runners.local import LocalRunner

    settings.EVALUATION_MAX_ACTIVE_JOBS = 1
    settings.EVALUATION_MAX_ATTEMPTS = 2
    settings.EVALUATION_QUEUED_RESEND_S = 120
    device = services.device_register(host=_host_of_host_cpu(), info=LocalRunner().probe())
    owner = make_user()
    job = services.runtime_job_create(
        owner=owner,
        model_file=tflite_models["conv_float"].read_bytes(),
        device=device.slug,
        accelerator="cpu",
    )
    ref = f"evaluation.runtimejob:{job.pk}"
    now = timezone.now()
    # Its message never left the outbox (this test's transaction never commits): the dispatcher's.
    assert services.runtime_jobs_recover_stuck(now=now + dt.timedelta(hours=1)) == {
        "requeued": 0,
        "failed": 0,
    }
    _mark_sent(now)
    assert services.runtime_jobs_recover_stuck(now=now + dt.timedelta(seconds=60)) == {
        "requeued": 0,
        "failed": 0,
    }
    with pytest.raises(services.RateLimited):  # the queued job counts against the active-job limit
        services.runtime_job_check_rate(owner=owner)
    # The device idles and the job is still queued after 2 minutes: the message was lost.
    assert services.runtime_jobs_recover_stuck(now=now + dt.timedelta(seconds=121)) == {
        "requeued": 1,
        "failed": 0,
    }
    assert Dispatch.objects.filter(ref=ref).count() == 2
    _mark_sent(now + dt.timedelta(seconds=121))
    # While the device runs another job, a queued one just waits its turn.
    other = RuntimeJob.objects.create(owner=owner, device=device, accelerator="cpu", state="running")
    assert services.runtime_jobs_recover_stuck(now=now + dt.timedelta(seconds=250)) == {
        "requeued": 0,
        "failed": 0,
    }
    other.delete()
    assert services.runtime_jobs_recover_stuck(now=now + dt.timedelta(seconds=250)) == {
        "requeued": 0,
        "failed": 1,
    }
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error_message.startswith(f"{device.name} did not pick up this job after 2 tries")
    services.runtime_job_check_rate(owner=owner)  # no longer counted as active
    assert Device.objects.get(pk=device.pk).status == "online"


def _running_submission(challenge, user):
    from challenges.finalphase.models import ModelSubmission

    team = make_team(challenge, "Team Sweep", user)
    s = ModelSubmission(challenge=challenge, team=team, submitted_by=user, model_size=4)
    s.model.save("model.tflite", ContentFile(b"TFL3"), save=False)
    s.save()
    return s


def test_a_fidelity_run_whose_worker_died_is_dispatched_again_then_failed_with_a_reason(
    challenge, make_user, settings
):
    from challenges.finalphase import selectors
    from challenges.finalphase.models import ModelSubmission
    from challenges.finalphase.services import recovery, scores, submissions

    settings.FINALPHASE_MAX_ATTEMPTS = 2
    settings.FINALPHASE_FIDELITY_GRACE_S = 60
    settings.FINALPHASE_STALE_QUEUED_S = 300
    sub = _running_submission(challenge, make_user())
    submissions._queue_measurements(sub.pk)  # the two outbox rows, as model_submission_create writes them
    now = timezone.now()
    _mark_sent(now)
    final = scores.final_settings_get(challenge=challenge)
    final.fidelity_time_limit_s = limit = 100
    final.save()
    # The fidelity run started, then its worker died; the runtime job was never created (message lost).
    ModelSubmission.objects.filter(pk=sub.pk).update(fidelity_status="running", fidelity_started_at=now)
    assert (
        recovery.model_submissions_recover_stale(now=now + dt.timedelta(seconds=limit + 30))["redispatched"]
        == 0
    )
    later = now + dt.timedelta(seconds=max(limit + 61, 301))
    assert recovery.model_submissions_recover_stale(now=later) == {
        "redispatched": 2,
        "failed": 0,
        "recorded": 0,
        "skipped": 0,
    }
    sub.refresh_from_db()
    assert sub.fidelity_status == "queued" and sub.fidelity_started_at is None
    ref = f"finalphase.modelsubmission:{sub.pk}"
    assert Dispatch.objects.filter(ref=ref, task="finalphase.run_fidelity").count() == 2
    assert Dispatch.objects.filter(ref=ref, task="finalphase.start_runtime").count() == 2
    # Pending again (broker down): left to the dispatcher, however late.
    assert recovery.model_submissions_recover_stale(now=later + dt.timedelta(days=1))["redispatched"] == 0
    _mark_sent(later)
    ModelSubmission.objects.filter(pk=sub.pk).update(fidelity_status="running", fidelity_started_at=later)
    counts = recovery.model_submissions_recover_stale(now=later + dt.timedelta(seconds=max(limit + 61, 301)))
    assert (counts["failed"], counts["skipped"]) == (1, 1)  # the failed fidelity ends the submission
    sub.refresh_from_db()
    assert (sub.status, sub.fidelity_status, sub.runtime_status) == ("failed", "failed", "skipped")
    assert "Fidelity: The fidelity run on the hidden test data did not finish after 2 attempts" in sub.error
    assert "does not count against your limit" in sub.error
    assert selectors.submissions_counted_against_limit(team=sub.team) == 0
