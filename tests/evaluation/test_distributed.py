"""Distributed for real: a device worker started as a separate process with no database settings at all
(only the Redis broker URL, the live site's URL and a device token) registers the host CPU, consumes
`device.host-cpu`, downloads models through signed URLs and reports through the API. Also: a bad model
and a model that runs too long fail with clear messages while the worker keeps serving, and a worker
process killed mid-job has its job redelivered, run again and counted once."""

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation import services
from evaluation.models import Device, RuntimeJob
from evaluation.runners.local import cpu_model_name
from tests.conftest import wait_for
from tests.evaluation.workers import TEST_HOST

pytestmark = pytest.mark.django_db(transaction=True)


def submit(owner, path, **kwargs):
    kwargs.setdefault("accelerator", "xnnpack")
    return services.runtime_job_create(
        owner=owner, model_file=SimpleUploadedFile(path.name, path.read_bytes()), device="host-cpu", **kwargs
    )


def wait_finished(job, timeout=60):
    return wait_for(
        lambda: RuntimeJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).first(), timeout=timeout
    )


def test_device_worker_registers_and_measures_models(registered, make_user, tflite_models, finished_events):
    assert registered.soc == cpu_model_name() and registered.host == TEST_HOST
    assert registered.accelerators == ["cpu", "xnnpack"] and registered.transport == "local"
    owner = make_user()
    int8 = submit(owner, tflite_models["conv_int8"], options={"timed_runs": 30})
    plain = submit(owner, tflite_models["classifier_int8"], accelerator="cpu", options={"warmup_runs": 3})
    for job in (int8, plain):
        done = wait_finished(job)
        assert done.state == "done", done.error_message
        assert 0 < done.min_ms <= done.median_ms <= done.max_ms and done.min_ms <= done.mean_ms <= done.max_ms
        assert done.peak_memory_mb > 0 and done.init_ms > 0 and done.attempts == 1
        assert done.runtime_version.startswith("LiteRT 2.")
        assert done.worker.split(":")[0] == os.uname().nodename
    assert RuntimeJob.objects.get(pk=int8.pk).runs == 30
    assert "XNNPACK" in RuntimeJob.objects.get(pk=int8.pk).runtime_version
    assert "Warm-up runs: 3" in RuntimeJob.objects.get(pk=plain.pk).raw_log
    assert sorted(finished_events) == sorted([(int8.pk, True), (plain.pk, True)])
    assert Device.objects.get(slug="host-cpu").status == "online"


def test_job_over_its_time_limit_fails_and_the_worker_serves_the_next(
    registered, make_user, tflite_models, settings
):
    settings.EVALUATION_JOB_TIME_LIMIT_S = 2
    owner = make_user()
    slow = submit(
        owner,
        tflite_models["conv_dynamic"],
        accelerator="cpu",
        options={"input_shapes": {0: [1, 1024, 1024, 3]}, "timed_runs": 500},
    )
    after = submit(owner, tflite_models["conv_float"])
    failed = wait_finished(slow)
    assert failed.state == "failed"
    assert failed.error_message.startswith("The model was stopped at the job's time limit of 2 s")
    assert wait_finished(after).state == "done"


def test_killed_worker_process_job_is_redelivered_and_counted_once(
    registered, make_user, tflite_models, finished_events
):
    owner = make_user()
    # About 120 ms per run on plain CPU kernels: ~5 s of work, long enough to kill it mid-run.
    job = submit(
        owner,
        tflite_models["conv_dynamic"],
        accelerator="cpu",
        options={"input_shapes": {0: [1, 1024, 1024, 3]}, "timed_runs": 40},
    )
    running = wait_for(lambda: RuntimeJob.objects.filter(pk=job.pk, state="running").first(), timeout=30)
    assert running.attempts == 1
    pid = int(running.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # the Celery process running the task dies mid-job
    done = wait_finished(job, timeout=90)
    assert done.state == "done", done.error_message
    assert done.attempts == 2 and done.runs == 40
    assert int(done.worker.rsplit(":", 1)[1]) != pid
    assert finished_events == [(job.pk, True)]
    assert RuntimeJob.objects.filter(pk=job.pk).count() == 1
