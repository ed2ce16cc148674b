"""A device host's process tree with real processes, Redis and the live site: the per-device Celery
workers die with the `device_worker` process that started them (a host killed with SIGKILL mid-job
leaves nothing consuming its queue, and the job it was running is run again, once, after the restart),
a worker whose host died before it armed its parent-death signal leaves at once, and two device workers
started for one device never run two of its jobs at the same moment (the device's lease)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation import services
from evaluation.models import Device, RuntimeJob
from evaluation.signals import runtime_job_finished
from tests.conftest import ROOT, wait_for
from tests.evaluation.workers import (
    alive,
    descendants,
    purge_device_queue,
    queue_consumers,
    start_device_worker,
    stop,
    wait_for_consumer,
)

pytestmark = pytest.mark.django_db(transaction=True)
HOST = "test-device-host-lifecycle"
FAST_LEASE = {"DEVICE_LEASE_POLL_S": "0.2", "DEVICE_LEASE_WAIT_S": "120"}


@pytest.fixture
def finished():
    """(job id, succeeded) for every `runtime_job_finished` sent."""
    events = []

    def receiver(sender, job, succeeded, **kwargs):
        events.append((job.pk, succeeded))

    runtime_job_finished.connect(receiver, weak=False)
    yield events
    runtime_job_finished.disconnect(receiver)


def start_manage_device_worker(*, site_url: str, broker_url: str, slug: str, name: str) -> subprocess.Popen:
    """`python manage.py device_worker`, as the Procfile and an operator's shell start it."""
    from evaluation.tokens import device_host_token

    log = open(Path(os.environ["VAR_DIR"]) / f"{name}.log", "w")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
    cmd = [
        sys.executable,
        "manage.py",
        "device_worker",
        "--device",
        f"local:{slug}",
        "--site-url",
        site_url,
        "--token",
        device_host_token(HOST),
        "--broker-url",
        broker_url,
        "--heartbeat",
        "0.5",
    ]
    env = {**os.environ, "DEVICE_SITE_PATIENCE_S": "5", **FAST_LEASE}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def submit(owner, tflite_models, slug: str, *, size: int, runs: int) -> RuntimeJob:
    path = tflite_models["conv_dynamic"]
    return services.runtime_job_create(
        owner=owner,
        model_file=SimpleUploadedFile(path.name, path.read_bytes()),
        device=slug,
        accelerator="cpu",
        options={"input_shapes": {0: [1, size, size, 3]}, "timed_runs": runs, "warmup_runs": 1},
        check_rate=False,
    )


def wait_finished(job, timeout=90):
    return wait_for(
        lambda: RuntimeJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).first(), timeout=timeout
    )


def test_sigkilled_host_leaves_no_worker_and_its_job_runs_once_after_restart(
    live_server, tflite_models, make_user, settings, finished
):
    slug = "lifecycle-cpu"
    purge_device_queue(slug)
    first = start_manage_device_worker(
        site_url=live_server.url, broker_url=settings.CELERY_BROKER_URL, slug=slug, name="lifecycle-1"
    )
    second = None
    try:
        wait_for_consumer(slug)
        wait_for(lambda: Device.objects.filter(slug=slug, status="online").exists(), timeout=30)
        # About 120 ms per run on plain CPU kernels: several seconds of work, killed in the middle.
        job = submit(make_user(), tflite_models, slug, size=1024, runs=60)
        running = wait_for(lambda: RuntimeJob.objects.filter(pk=job.pk, state="running").first(), timeout=60)
        pool_pid = int(running.worker.rsplit(":", 1)[1])
        tree = descendants(first.pid)
        assert pool_pid in tree and len(tree) >= 2  # the Celery worker and its pool process (at least)

        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        wait_for(lambda: not any(alive(pid) for pid in tree), timeout=10)
        assert time.monotonic() - killed_at < 10
        assert queue_consumers(f"device.{slug}") == []
        assert RuntimeJob.objects.get(pk=job.pk).state == "running"  # cut off, not finished

        # The host comes back (its supervisor restarts it): the job's message went back on the queue
        # when the orphaned worker shut down, the dead attempt's lease is taken over, the job runs again.
        second = start_manage_device_worker(
            site_url=live_server.url, broker_url=settings.CELERY_BROKER_URL, slug=slug, name="lifecycle-2"
        )
        done = wait_finished(job, timeout=120)
        assert done.state == "done", done.error_message
        assert (done.attempts, done.runs) == (2, 60)
        assert int(done.worker.rsplit(":", 1)[1]) in descendants(second.pid)
        assert finished == [(job.pk, True)]
        assert Device.objects.get(slug=slug).lease_job_id is None
    finally:
        for proc in (first, second):
            if proc is not None:
                stop(proc)


def test_worker_whose_host_died_before_it_started_leaves_at_once():
    """The race the parent-death signal leaves open: the host dies after starting the worker but before
    the worker armed the signal. The worker checks its parent right after arming it and leaves."""
    env = {**os.environ, "DEVICE_WORKER_PARENT_PID": str(os.getpid())}
    probe = "import ctypes, evaluation.device_worker as w; s = ctypes.c_int(); "
    probe += "ctypes.CDLL(None).prctl(2, ctypes.byref(s)); print(s.value)"
    armed = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    # Started by this process, which is alive: the signal is armed (SIGQUIT) and the worker goes on.
    assert armed.returncode == 0, armed.stderr
    assert armed.stdout.split()[-1] == str(int(signal.SIGQUIT))

    orphan = subprocess.run(
        [sys.executable, "-c", "import evaluation.device_worker; print('still here')"],
        cwd=ROOT,
        env={**os.environ, "DEVICE_WORKER_PARENT_PID": "1"},  # not its parent: that host is gone
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert orphan.returncode == 3 and "still here" not in orphan.stdout


def test_two_workers_for_one_device_never_overlap_and_run_each_job_once(
    live_server, tflite_models, make_user, settings, finished
):
    from evaluation.tokens import device_host_token

    slug = "pair-cpu"
    purge_device_queue(slug)
    workers = [
        start_device_worker(
            site_url=live_server.url,
            token=device_host_token(HOST),
            broker_url=settings.CELERY_BROKER_URL,
            name=f"pair-{n}",
            devices=(f"local:{slug}",),
            extra_env=FAST_LEASE,
        )
        for n in (1, 2)
    ]
    try:
        # Both answer to the same node name (one pidbox queue, so a ping reaches one of them): wait for
        # each one's Celery to say it is ready.
        logs = [Path(os.environ["VAR_DIR"]) / f"pair-{n}.log" for n in (1, 2)]
        wait_for(
            lambda: all(
                f"device-{slug}@" in log.read_text() and " ready." in log.read_text() for log in logs
            ),
            timeout=90,
        )
        wait_for(lambda: Device.objects.filter(slug=slug, status="online").exists(), timeout=30)
        owner = make_user()
        # Each about a second of work: without the lease the two workers would run them side by side.
        jobs = [submit(owner, tflite_models, slug, size=256, runs=40) for _ in range(4)]
        done = [wait_finished(job, timeout=180) for job in jobs]
        assert [(j.state, j.attempts, j.runs) for j in done] == [("done", 1, 40)] * 4, [
            j.error_message for j in done
        ]
        assert sorted(finished) == sorted((job.pk, True) for job in jobs)
        spans = sorted((j.started_at, j.finished_at) for j in done)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start, f"two jobs ran on {slug} at once: one ended {end}, the next began {start}"
        # Both workers ran jobs: they really competed for the device.
        assert len({j.worker for j in done}) >= 2
        assert Device.objects.get(slug=slug).lease_job_id is None
    finally:
        for proc in workers:
            stop(proc)
