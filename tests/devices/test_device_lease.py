"""The device lease through the services and the claim API: one job at a time per device whatever the
workers do (a duplicate claim, a second worker, an orphan), freed by the report or a release, renewed by
the running worker, expiring when its worker is gone, taken over at once from a holder its machine saw
die; and how a device worker tells whether a holder process is gone."""

import datetime as dt
import json
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evaluation import services
from evaluation.models import Device, DeviceHost, RuntimeJob
from evaluation.tokens import device_host_token

pytestmark = pytest.mark.django_db
SLUG = "lease-cpu"
RESULT = {"mean_ms": 1.5, "median_ms": 1.4, "std_ms": 0.1, "min_ms": 1.2, "max_ms": 2.0, "count": 5}


@pytest.fixture
def host(db):
    return DeviceHost.objects.create(name="lease-host")


@pytest.fixture
def device(host):
    from evaluation.runners.local import LocalRunner

    return services.device_register(host=host, info=LocalRunner(slug=SLUG).probe())


@pytest.fixture
def new_job(device, tflite_models, make_user):
    owner = make_user()

    def make():
        data = tflite_models["conv_float"].read_bytes()
        return services.runtime_job_create(
            owner=owner,
            model_file=SimpleUploadedFile("model.tflite", data),
            device=SLUG,
            accelerator="cpu",
            check_rate=False,
        )

    return make


def claim(job, host, holder, **kwargs):
    return services.runtime_job_claim(
        uid=job.uid, host=host, device_slug=SLUG, worker=holder, holder=holder, **kwargs
    )


def lease_of_device():
    device = Device.objects.get(slug=SLUG)
    return device.lease_job_id, device.lease_attempt, device.lease_holder


def test_a_second_job_waits_for_the_lease_until_the_first_is_reported(host, new_job, settings):
    settings.EVALUATION_DEVICE_LEASE_S = 60
    first, second = new_job(), new_job()
    taken = claim(first, host, "worker-a")
    assert taken["run"] is True and taken["lease_s"] == 60
    assert lease_of_device() == (first.pk, 1, "worker-a")

    refused = claim(second, host, "worker-b")
    assert (refused["run"], refused["busy"], refused["holder"]) == (False, True, "worker-a")
    assert 0 < refused["retry_in"] <= 60
    second.refresh_from_db()
    assert (second.state, second.attempts) == ("queued", 0)  # untouched: it waits, it is not dropped

    assert services.runtime_job_report(uid=first.uid, host=host, attempt=1, result=RESULT) is True
    assert lease_of_device() == (None, None, "")
    assert claim(second, host, "worker-b")["run"] is True
    assert lease_of_device() == (second.pk, 1, "worker-b")


def test_a_duplicate_message_of_the_running_job_does_not_run_beside_it(host, new_job):
    job = new_job()
    assert claim(job, host, "worker-a")["run"] is True
    duplicate = claim(job, host, "worker-b")
    assert duplicate["busy"] is True
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker) == ("running", 1, "worker-a")
    # Only the holder's own death, seen by its machine, lets the redelivery take over at once.
    assert claim(job, host, "worker-b", dead_holder="someone-else")["busy"] is True
    again = claim(job, host, "worker-b", dead_holder="worker-a")
    assert (again["run"], again["attempt"]) == (True, 2)
    assert lease_of_device() == (job.pk, 2, "worker-b")
    # The dead attempt's late report and renewal change nothing.
    assert services.runtime_job_report(uid=job.uid, host=host, attempt=1, result=RESULT) is False
    assert services.runtime_job_lease_renew(uid=job.uid, host=host, device_slug=SLUG, attempt=1) is False


def test_the_lease_expires_unless_renewed(host, new_job, settings):
    settings.EVALUATION_DEVICE_LEASE_S = 30
    first, second = new_job(), new_job()
    claim(first, host, "worker-a")
    expires = Device.objects.get(slug=SLUG).lease_expires_at
    assert services.runtime_job_lease_renew(uid=first.uid, host=host, device_slug=SLUG, attempt=1) is True
    renewed = Device.objects.get(slug=SLUG).lease_expires_at
    assert renewed >= expires and renewed - timezone.now() > dt.timedelta(seconds=25)
    assert claim(second, host, "worker-b")["busy"] is True

    # Its worker stopped renewing (the machine vanished): once expired, the device takes the next job.
    Device.objects.filter(slug=SLUG).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert claim(second, host, "worker-b")["run"] is True
    assert services.runtime_job_lease_renew(uid=first.uid, host=host, device_slug=SLUG, attempt=1) is False


def test_a_released_or_swept_job_frees_the_device(host, new_job, settings):
    first, second, third = new_job(), new_job(), new_job()
    attempt = claim(first, host, "worker-a")["attempt"]
    # Only the attempt that runs the job may give it back.
    assert services.runtime_job_release(uid=first.uid, host=host, reason="not my device") is False
    assert services.runtime_job_release(uid=first.uid, host=host, reason="late", attempt=attempt + 1) is False
    assert (
        services.runtime_job_release(uid=first.uid, host=host, reason="phone unplugged", attempt=attempt)
        is True
    )
    assert lease_of_device() == (None, None, "")
    Device.objects.filter(slug=SLUG).update(status="online")
    assert claim(second, host, "worker-b")["run"] is True
    # The stuck-job sweep puts a job whose machine vanished back in the queue: its lease no longer counts.
    later = timezone.now() + dt.timedelta(seconds=second.options["time_limit_s"] * 2 + 121)
    assert services.runtime_jobs_recover_stuck(now=later)["requeued"] == 1
    assert claim(third, host, "worker-c")["run"] is True


def test_claim_api_answers_busy_and_renews(host, new_job, client):
    first, second = new_job(), new_job()
    auth = {"HTTP_AUTHORIZATION": f"Device {device_host_token(host.name)}"}

    def post(job, body):
        response = client.post(
            f"/api/evaluation/hosts/jobs/{job.uid}/claim/",
            data=json.dumps(body),
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 200, response.content
        return response.json()

    taken = post(first, {"device": SLUG, "worker": "h:1", "holder": "h:1:99@m"})
    assert taken["run"] is True and taken["attempt"] == 1
    busy = post(second, {"device": SLUG, "worker": "h:2", "holder": "h:2:77@m"})
    assert (busy["run"], busy["busy"], busy["holder"]) == (False, True, "h:1:99@m")
    assert post(first, {"device": SLUG, "renew": 1}) == {"renewed": True}
    assert post(second, {"device": SLUG, "renew": 1}) == {"renewed": False}
    response = client.post(
        f"/api/evaluation/hosts/jobs/{first.uid}/claim/",
        data=json.dumps({"device": SLUG, "renew": "first"}),
        content_type="application/json",
        **auth,
    )
    # The API's one error shape (config/api_errors.py): the field and its message.
    assert response.status_code == 400 and response.json()["fields"]["renew"] == ["must be a whole number"]
    assert RuntimeJob.objects.get(pk=second.pk).state == "queued"


@pytest.mark.django_db(transaction=True)
def test_the_worker_waits_for_a_busy_device_keeps_its_lease_and_takes_over_a_dead_holder(
    live_server, host, new_job, settings, monkeypatch
):
    """The device worker's side, against the live site: `claim_device` waits while the lease is held
    and gives up after DEVICE_LEASE_WAIT_S; `LeaseKeeper` renews the lease while a job runs; a holder
    process that is gone is taken over at once."""
    from evaluation.device_client import SiteClient
    from evaluation.device_worker import DeviceBusy, LeaseKeeper, claim_device, holder_id

    settings.EVALUATION_DEVICE_LEASE_S = 3
    monkeypatch.setenv("DEVICE_LEASE_WAIT_S", "1")
    monkeypatch.setenv("DEVICE_LEASE_POLL_S", "0.2")
    client = SiteClient(live_server.url, device_host_token(host.name))
    first, second, third = new_job(), new_job(), new_job()
    claimed = claim(first, host, "another-worker")  # a live holder elsewhere
    assert claimed["run"] is True and claimed["lease_s"] == 3
    with LeaseKeeper(client, str(first.uid), device=SLUG, attempt=1, lease_s=claimed["lease_s"]) as keeper:
        time.sleep(4.5)  # one and a half lifetimes of the lease: only renewals keep it
        with pytest.raises(DeviceBusy):
            claim_device(client, str(second.uid), device=SLUG, worker="w:2")
    assert keeper.lost is False
    assert RuntimeJob.objects.get(pk=second.pk).state == "queued"
    assert client.report(str(first.uid), attempt=1, result=RESULT)["recorded"] is True

    # The holder of the second job's lease was a process of this machine that is gone: taken over.
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    gone = holder_id(proc.pid)
    proc.wait()
    assert claim(second, host, gone)["run"] is True
    taken = claim_device(client, str(third.uid), device=SLUG, worker="w:3")
    assert taken["run"] is True
    assert lease_of_device()[0] == third.pk


def test_a_worker_tells_a_dead_holder_from_a_live_one():
    from evaluation.device_worker import holder_id, holder_is_dead

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        holder = holder_id(proc.pid)
        assert holder_is_dead(holder) is False
        name_pid_ticks, _, machine = holder.rpartition("@")
        # Another machine's process, or a reused PID (another start time), is judged as such.
        assert holder_is_dead(f"{name_pid_ticks}@another-machine") is False
        assert holder_is_dead(f"{name_pid_ticks.rsplit(':', 1)[0]}:1@{machine}") is True
    finally:
        proc.kill()
        proc.wait()
    assert holder_is_dead(holder) is True
    assert holder_is_dead(holder_id()) is False
    assert holder_is_dead("not a holder") is False
