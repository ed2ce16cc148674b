"""Nothing stays stuck, nothing is lost, nothing runs or counts twice — with real processes killed the
way machines die (SIGKILL of whole process trees), a real broker restarted, and the real `celery beat`
running the sweeps with short windows (tests/reliability/procs.py: SHORT_WINDOWS)."""

import datetime as dt
import io
import socket

import numpy as np
import pytest

from challenges.demo_data import png_bytes, zip_bytes
from tests.conftest import wait_for
from tests.evaluation.workers import TEST_HOST

from .procs import kill_tree, start_device_worker, start_site_worker, wait_for_ping

pytestmark = pytest.mark.django_db(transaction=True)

HOST = socket.gethostname()


def _device_online(timeout=90):
    from evaluation.models import Device

    return wait_for(
        lambda: Device.objects.filter(slug="host-cpu", status__in=["online", "busy"]).first(), timeout=timeout
    )


def _start_device(live_server, broker, processes, name):
    from evaluation.tokens import device_host_token

    proc = start_device_worker(
        site_url=live_server.url, token=device_host_token(TEST_HOST), broker_url=broker.url, name=name
    )
    processes.append(proc)
    return proc


def _finished(model, pk, timeout):
    return wait_for(
        lambda: model.objects.filter(pk=pk, state__in=["done", "failed"]).first(), timeout=timeout
    )


def test_device_host_killed_mid_job_the_job_is_requeued_and_finished_once(
    live_server, broker, beat, processes, make_user, tflite_models, finished_events, settings
):
    from common.models import Dispatch
    from evaluation.models import Device, RuntimeJob
    from evaluation.services import runtime_job_create

    settings.EVALUATION_JOB_TIME_LIMIT_S = 25  # the running job's deadline: 25 s + 3 s grace
    processes.append(start_site_worker(broker.url, name="rel-site-a"))  # runs beat's sweeps
    first = _start_device(live_server, broker, processes, "rel-device-a1")
    _device_online()
    wait_for_ping(broker.url, f"device-host-cpu@{HOST}", first)
    # About 120 ms per run on plain CPU kernels: seconds of work, long enough to kill it mid-run.
    job = runtime_job_create(
        owner=make_user(),
        model_file=tflite_models["conv_dynamic"].read_bytes(),
        device="host-cpu",
        accelerator="cpu",
        options={"input_shapes": {0: [1, 1024, 1024, 3]}, "timed_runs": 40},
    )
    running = wait_for(lambda: RuntimeJob.objects.filter(pk=job.pk, state="running").first(), timeout=60)
    # The device host's whole tree: its parent, its Celery worker and that worker's pool process.
    assert kill_tree(first) >= 3
    assert RuntimeJob.objects.get(pk=job.pk).state == "running"  # nobody told the site

    _start_device(live_server, broker, processes, "rel-device-a2")  # the host comes back
    done = _finished(RuntimeJob, job.pk, timeout=180)
    assert done.state == "done", done.error_message
    assert done.attempts == 2 and done.runs == 40
    assert done.worker != running.worker
    # Requeued by the sweep once its deadline passed (25 s + 3 s), not after the broker's 3,600 s.
    assert done.finished_at - running.started_at < dt.timedelta(seconds=25 + 3 + 120)
    assert Dispatch.objects.filter(ref=f"evaluation.runtimejob:{job.pk}", sent_at__isnull=False).count() == 2
    assert finished_events == [(job.pk, True)]  # finished once
    assert RuntimeJob.objects.count() == 1
    assert Device.objects.get(slug="host-cpu").status == "online"


def _slow_ground_truth(challenge, n=10, size=1024):
    """Replaces the track's validation ground truth with n large images (scoring takes seconds)."""
    from django.core.files.base import ContentFile

    y, x = np.mgrid[0:size, 0:size]

    def image(i):
        return np.stack([(x + 7 * i) % 256, (y + 3 * i) % 256, ((x + y) // 2 + i) % 256], axis=2).astype(
            np.uint8
        )

    gt = challenge.data_files.get(split="validation_gt")
    gt.file.save(
        "validation_ground_truth.zip",
        ContentFile(zip_bytes({f"val_{i:04d}.png": png_bytes(image(i)) for i in range(n)})),
    )
    challenge.max_uncompressed_mb = 1000
    challenge.save()
    upload = io.BytesIO(
        zip_bytes(
            {
                f"val_{i:04d}.png": png_bytes(np.clip(image(i).astype(int) + 3, 0, 255).astype(np.uint8))
                for i in range(n)
            }
        )
    )
    upload.name = "results.zip"
    return upload


def _submit(client, challenge, upload):
    response = client.post(
        f"/{challenge.workshop.slug}/challenges/{challenge.slug}/submissions/", {"file": upload}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def test_scoring_worker_killed_mid_scoring_the_submission_is_scored_once(
    live_server, broker, beat, processes, client, denoising, participant
):
    from challenges import selectors
    from challenges.models import Submission
    from common.models import Dispatch

    user = participant(denoising, "Night Owls")
    client.force_login(user)
    upload = _slow_ground_truth(denoising)
    worker = start_site_worker(broker.url, name="rel-site-b1")
    processes.append(worker)
    _submit(client, denoising, upload)
    sub = Submission.objects.get()
    wait_for(
        lambda: Submission.objects.filter(pk=sub.pk, status="scoring").exists(), timeout=60, interval=0.05
    )
    assert kill_tree(worker) >= 2  # the worker's main process and its pool, mid-scoring
    assert Submission.objects.get(pk=sub.pk).status == "scoring"

    processes.append(start_site_worker(broker.url, name="rel-site-b2"))
    done = wait_for(
        lambda: Submission.objects.filter(pk=sub.pk, status__in=["done", "failed"]).first(), timeout=180
    )
    assert done.status == "done", done.error
    assert done.attempts == 2  # the killed run and the sweep's run: scored once
    assert done.scores["psnr"] == pytest.approx(38.63, abs=0.01)
    assert Dispatch.objects.filter(ref=f"challenges.submission:{sub.pk}").count() == 2
    limits = selectors.submission_limits(team=sub.team, challenge=denoising, now=done.finished_at)
    assert limits.total - limits.left_total == 1  # counted once against the team's limits
    page = client.get(done.get_absolute_url() + "status/").content.decode()
    assert 'id="status">Done<' in page


def test_broker_down_at_submit_no_error_and_everything_runs_once_it_is_back(
    live_server,
    broker,
    beat,
    processes,
    client,
    denoising,
    participant,
    make_user,
    tflite_models,
    finished_events,
):
    from challenges.models import Submission
    from common.models import Dispatch
    from evaluation.models import RuntimeJob
    from evaluation.runners.local import LocalRunner
    from evaluation.services import device_host_get_or_create, device_register, runtime_job_create

    processes.append(start_site_worker(broker.url, name="rel-site-c"))
    device_register(host=device_host_get_or_create(name=TEST_HOST), info=LocalRunner().probe())
    # In flight: a job whose message waits on the device's queue (its host is down) when the broker
    # crashes — a broker without persistence loses it.
    lost = runtime_job_create(
        owner=make_user(),
        model_file=tflite_models["conv_float"].read_bytes(),
        device="host-cpu",
        accelerator="cpu",
    )
    broker.stop()

    user = participant(denoising, "Larks")
    client.force_login(user)
    upload = io.BytesIO(_results(denoising))
    upload.name = "results.zip"
    location = _submit(client, denoising, upload)  # no HTTP 500: the row and its message are stored
    status = client.get(location + "status/").content.decode()
    assert "waiting for the queue service" in _element(status, 'id="queue-waiting"')
    model = tflite_models["conv_float"]
    with model.open("rb") as fh:
        response = client.post(
            "/evaluation/check-runtime/",
            {
                "model": fh,
                "device": "host-cpu",
                "accelerator": "cpu",
                "threads": 1,
                "warmup_runs": 1,
                "timed_runs": 5,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job_page = client.get(response["Location"]).content.decode()
    assert "waiting for the queue service" in _element(job_page, 'data-testid="queue-waiting"')
    checked = RuntimeJob.objects.exclude(pk=lost.pk).get()

    broker.start()  # the same port, empty: every message it held is gone
    _start_device(live_server, broker, processes, "rel-device-c")
    sub = Submission.objects.get()
    scored = wait_for(
        lambda: Submission.objects.filter(pk=sub.pk, status__in=["done", "failed"]).first(), timeout=120
    )
    assert scored.status == "done" and scored.attempts == 1, scored.error
    for job in (checked, lost):
        finished = _finished(RuntimeJob, job.pk, timeout=180)
        assert finished.state == "done" and finished.attempts == 1, finished.error_message
    assert sorted(finished_events) == sorted([(checked.pk, True), (lost.pk, True)])
    # The lost message was sent again by the sweep; the one written during the outage by the dispatcher.
    assert Dispatch.objects.filter(ref=f"evaluation.runtimejob:{lost.pk}", sent_at__isnull=False).count() == 2
    assert (
        Dispatch.objects.filter(ref=f"evaluation.runtimejob:{checked.pk}", sent_at__isnull=False).count() == 1
    )
    assert "waiting for the queue service" not in client.get(location + "status/").content.decode()


def _results(challenge) -> bytes:
    from challenges.demo_data import results_for
    from tests.challenges.conftest import ground_truth_bytes

    return results_for(challenge.result_format, ground_truth_bytes(challenge))


def _element(html: str, marker: str) -> str:
    """The text of the element carrying `marker` (an attribute), so the assertion is on that element."""
    start = html.index(marker)
    start = html.rindex("<", 0, start)
    tag = html[start + 1 : html.index(" ", start)]
    return html[start : html.index(f"</{tag}>", start)]
