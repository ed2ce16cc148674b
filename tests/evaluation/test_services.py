"""Runtime jobs through the services: refusals that store nothing, rate limits, claim and report
(idempotent, the finished signal once), offline devices and twins, signed model URLs, device tokens."""

import datetime as dt
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evaluation import services
from evaluation.models import Device, DeviceHost, RuntimeJob
from evaluation.tokens import device_host_token, model_download_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload(tflite_models):
    def make(name="conv_int8"):
        return SimpleUploadedFile(f"{name}.tflite", tflite_models[name].read_bytes())

    return make


def stored_files(settings):
    from pathlib import Path

    root = Path(settings.PRIVATE_STORAGE_ROOT) / "evaluation"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_job_is_created_with_intake_and_options(host_cpu, make_user, upload):
    owner = make_user()
    job = services.runtime_job_create(
        owner=owner,
        model_file=upload(),
        device="host-cpu",
        accelerator="xnnpack",
        options={"threads": 2, "timed_runs": 50},
    )
    assert job.state == RuntimeJob.State.QUEUED and job.device == host_cpu
    assert job.model_name == "conv_int8.tflite" and job.model_info["kind"] == "full-integer"
    assert job.options["threads"] == 2 and job.options["timed_runs"] == 50 and job.options["warmup_runs"] == 1
    # The stored options name the accelerator asked for (they said "cpu", RunOptions' default, before).
    assert job.accelerator == "xnnpack" and job.options["accelerator"] == "xnnpack"
    assert job.model_file.read()[4:8] == b"TFL3"


def test_dynamic_model_runs_at_the_shape_given_and_without_one_says_what_to_give(host_cpu, make_user, upload):
    with pytest.raises(services.RuntimeJobRefused) as excinfo:
        services.runtime_job_create(
            owner=make_user(), model_file=upload("conv_dynamic"), device="host-cpu", accelerator="cpu"
        )
    assert excinfo.value.messages == [
        "Input 0 is float32 1×?×?×3: its free dimensions need a size. Give the shape to measure it at in "
        "“Input shape” (API: input_shape), for example 1x480x720x3."
    ]
    job = services.runtime_job_create(
        owner=make_user(),
        model_file=upload("conv_dynamic"),
        device="host-cpu",
        accelerator="cpu",
        options={"input_shape": "1×48×64×3"},
    )
    assert job.options["input_shapes"] == {"0": [1, 48, 64, 3]} and job.input_shapes == [[1, 48, 64, 3]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device": "pixel-99"}, "There is no device “pixel-99”. Choose one from the device list."),
        ({"accelerator": "gpu"}, "has no GPU accelerator; it offers CPU, CPU (XNNPACK)."),
        ({"options": {"threads": 64}}, "Threads must be between 1 and 8."),
        ({"options": {"timed_runs": "many"}}, "Timed runs must be a whole number."),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(host_cpu, make_user, upload, settings, kwargs, message):
    arguments = {
        "owner": make_user(),
        "model_file": upload(),
        "device": "host-cpu",
        "accelerator": "cpu",
        **kwargs,
    }
    files_before = stored_files(settings)
    with pytest.raises(services.RuntimeJobRefused) as excinfo:
        services.runtime_job_create(**arguments)
    assert any(message in m for m in excinfo.value.messages)
    assert RuntimeJob.objects.count() == 0 and stored_files(settings) == files_before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("random", "This is not a TensorFlow Lite model"),
        ("truncated", "LiteRT cannot load this model"),
        ("huge_input", "which needs 10.1 GB of memory"),
        ("custom_op", "“MaiSecretOp”, which LiteRT does not provide"),
    ],
)
def test_bad_models_are_refused_at_upload(host_cpu, make_user, bad_models, settings, name, message):
    files_before = stored_files(settings)
    with pytest.raises(services.RuntimeJobRefused) as excinfo:
        services.runtime_job_create(
            owner=make_user(), model_file=bad_models[name].read_bytes(), device="host-cpu", accelerator="cpu"
        )
    assert message in excinfo.value.messages[0]
    assert RuntimeJob.objects.count() == 0 and stored_files(settings) == files_before


def test_contract_failures_refuse_the_job(host_cpu, make_user, upload):
    with pytest.raises(services.RuntimeJobRefused) as excinfo:
        services.runtime_job_create(
            owner=make_user(),
            model_file=upload("conv_float"),
            device="host-cpu",
            accelerator="cpu",
            contract={"int8_required": True},
            purpose="final",
        )
    assert excinfo.value.messages[0].startswith(
        "This track requires a full-integer INT8 model; yours is float32."
    )


def test_rate_limit_per_hour_and_active_jobs(host_cpu, make_user, upload, settings):
    settings.EVALUATION_RATE_LIMIT = 2
    settings.EVALUATION_MAX_ACTIVE_JOBS = 10
    owner, other = make_user(), make_user()
    for _ in range(2):
        services.runtime_job_create(owner=owner, model_file=upload(), device="host-cpu", accelerator="cpu")
    with pytest.raises(services.RateLimited) as excinfo:
        services.runtime_job_create(owner=owner, model_file=upload(), device="host-cpu", accelerator="cpu")
    assert excinfo.value.messages[0].startswith(
        "You have started 2 runtime checks in the last hour; the limit "
        "is 2 per hour. You can start the next one in 6"
    )
    # Another participant is not affected.
    services.runtime_job_create(owner=other, model_file=upload(), device="host-cpu", accelerator="cpu")
    settings.EVALUATION_RATE_LIMIT = 100
    settings.EVALUATION_MAX_ACTIVE_JOBS = 3
    services.runtime_job_create(owner=other, model_file=upload(), device="host-cpu", accelerator="cpu")
    services.runtime_job_create(owner=other, model_file=upload(), device="host-cpu", accelerator="cpu")
    with pytest.raises(services.RateLimited, match="You already have 3 runtime checks queued or running"):
        services.runtime_job_create(owner=other, model_file=upload(), device="host-cpu", accelerator="cpu")


RESULT = {
    "init_ms": 4.0,
    "first_inference_ms": 2.0,
    "mean_ms": 1.5,
    "median_ms": 1.4,
    "std_ms": 0.1,
    "min_ms": 1.3,
    "max_ms": 1.9,
    "peak_memory_mb": 12.5,
    "runtime_version": "LiteRT 2.3.0",
    "count": 20,
    "raw_log": "log",
}


def test_claim_and_report_are_idempotent_and_signal_once(
    host_cpu, device_host, make_user, upload, finished_events, django_capture_on_commit_callbacks
):
    from evaluation.selectors import runtime_job_queue_position

    owner = make_user()
    first = services.runtime_job_create(
        owner=owner, model_file=upload(), device="host-cpu", accelerator="cpu"
    )
    second = services.runtime_job_create(
        owner=owner, model_file=upload(), device="host-cpu", accelerator="cpu"
    )
    assert runtime_job_queue_position(job=first) == 1 and runtime_job_queue_position(job=second) == 2

    claim = services.runtime_job_claim(uid=first.uid, host=device_host, device_slug="host-cpu", worker="w:1")
    assert claim["run"] is True and claim["attempt"] == 1 and "/model/?t=" in claim["model_url"]
    assert Device.objects.get(slug="host-cpu").status == Device.Status.BUSY
    first.refresh_from_db()
    assert runtime_job_queue_position(job=first) == 0 and runtime_job_queue_position(job=second) == 2

    # A duplicate message while attempt 1 runs: the device's lease refuses it (the worker waits).
    busy = services.runtime_job_claim(uid=first.uid, host=device_host, device_slug="host-cpu", worker="w:2")
    assert (busy["run"], busy["busy"], busy["holder"]) == (False, True, "w:1")
    # The worker was killed (its machine saw it gone) and the message redelivered: attempt 2.
    claim = services.runtime_job_claim(
        uid=first.uid, host=device_host, device_slug="host-cpu", worker="w:2", dead_holder="w:1"
    )
    assert claim["attempt"] == 2
    # A late report from attempt 1 changes nothing.
    assert services.runtime_job_report(uid=first.uid, host=device_host, attempt=1, result=RESULT) is False
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runtime_job_report(uid=first.uid, host=device_host, attempt=2, result=RESULT) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runtime_job_report(uid=first.uid, host=device_host, attempt=2, result=RESULT) is False
    first.refresh_from_db()
    assert (first.state, first.mean_ms, first.peak_memory_mb, first.runs, first.attempts) == (
        "done",
        1.5,
        12.5,
        20,
        2,
    )
    assert finished_events == [(first.pk, True)]
    assert Device.objects.get(slug="host-cpu").status == Device.Status.ONLINE
    # Redelivered after the result was recorded: not run again.
    assert services.runtime_job_claim(uid=first.uid, host=device_host, device_slug="host-cpu")["run"] is False
    assert runtime_job_queue_position(job=second) == 1


def test_another_hosts_report_is_ignored(host_cpu, make_user, upload):
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="host-cpu", accelerator="cpu"
    )
    intruder = DeviceHost.objects.create(name="intruder")
    assert services.runtime_job_claim(uid=job.uid, host=intruder, device_slug="host-cpu")["run"] is False
    assert services.runtime_job_report(uid=job.uid, host=intruder, result=RESULT) is False
    job.refresh_from_db()
    assert job.state == "queued" and job.mean_ms is None


def test_too_many_attempts_fail_the_job_with_a_message(host_cpu, device_host, make_user, upload, settings):
    settings.EVALUATION_MAX_ATTEMPTS = 2
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="host-cpu", accelerator="cpu"
    )

    def claim():  # each time redelivered after its worker died
        return services.runtime_job_claim(
            uid=job.uid, host=device_host, device_slug="host-cpu", worker="w:1", dead_holder="w:1"
        )

    for _ in range(2):
        assert claim()["run"]
    assert claim()["run"] is False
    job.refresh_from_db()
    assert (
        job.state == "failed" and "The device stopped 2 times while running this model" in job.error_message
    )


def test_missed_heartbeats_mark_offline_and_new_jobs_go_to_a_twin(device_host, make_user, upload):
    old = timezone.now() - dt.timedelta(minutes=5)
    common = {"accelerators": ["cpu", "gpu"], "device_host": device_host, "group": "pixel-9"}
    lost = Device.objects.create(
        slug="pixel-9-a", name="Pixel 9 (A)", status="online", last_heartbeat=old, **common
    )
    twin = Device.objects.create(
        slug="pixel-9-b", name="Pixel 9 (B)", status="online", last_heartbeat=timezone.now(), **common
    )
    assert services.devices_mark_offline() == 1
    lost.refresh_from_db()
    assert lost.status == Device.Status.OFFLINE
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="pixel-9-a", accelerator="gpu"
    )
    assert job.device == twin and job.requested_device == lost
    # The heartbeat brings it back online.
    assert services.device_heartbeat(host=device_host, slugs=["pixel-9-a"]) == 1
    lost.refresh_from_db()
    assert lost.status == Device.Status.ONLINE


def test_offline_device_without_twin_keeps_the_job_waiting(device_host, make_user, upload):
    Device.objects.create(
        slug="rpi4", name="Raspberry Pi 4", accelerators=["cpu"], device_host=device_host, status="offline"
    )
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="rpi4", accelerator="cpu"
    )
    assert job.device.slug == "rpi4" and job.state == "queued"


def test_signed_model_url_downloads_and_expires(client, host_cpu, make_user, upload, settings, tflite_models):
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="host-cpu", accelerator="cpu"
    )
    url = model_download_path(job)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == tflite_models["conv_int8"].read_bytes()
    tampered = url.replace("&s=", "&s=x")
    assert client.get(tampered).status_code == 403
    settings.EVALUATION_MODEL_URL_MAX_AGE_S = 1
    time.sleep(2.1)
    expired = client.get(url)
    assert (
        expired.status_code == 403
        and expired.json()["detail"] == "This download link is invalid or has expired."
    )


def test_device_token_guards_the_host_api(client, host_cpu, device_host):
    register = "/api/evaluation/hosts/heartbeat/"
    ok = client.post(
        register,
        {"devices": ["host-cpu"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host_token(device_host.name)}",
    )
    assert ok.status_code == 200 and ok.json() == {"seen": 1}
    forged = client.post(
        register,
        {"devices": ["host-cpu"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host.name}:forged",
    )
    assert forged.status_code == 401
    device_host.enabled = False
    device_host.save()
    revoked = client.post(
        register,
        {"devices": ["host-cpu"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host_token(device_host.name)}",
    )
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_contract_value_range_drives_the_generated_inputs(host_cpu, make_user, upload):
    job = services.runtime_job_create(
        owner=make_user(),
        model_file=upload("conv_float"),
        device="host-cpu",
        accelerator="cpu",
        contract={"input_range": [0, 1]},
        purpose="final",
        check_rate=False,
    )
    assert job.options["input_range"] == [0, 1] and job.purpose == "final"


def test_job_whose_worker_vanished_is_requeued_then_failed(
    host_cpu, device_host, make_user, upload, settings, finished_events, django_capture_on_commit_callbacks
):
    settings.EVALUATION_MAX_ATTEMPTS = 2
    job = services.runtime_job_create(
        owner=make_user(), model_file=upload(), device="host-cpu", accelerator="cpu"
    )
    services.runtime_job_claim(uid=job.uid, host=device_host, device_slug="host-cpu")
    # Within its time limit it is left alone.
    assert services.runtime_jobs_recover_stuck() == {"requeued": 0, "failed": 0}
    later = timezone.now() + dt.timedelta(seconds=job.options["time_limit_s"] * 2 + 121)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.runtime_jobs_recover_stuck(now=later) == {"requeued": 1, "failed": 0}
    assert len(callbacks) == 1  # sent to the device's queue again after commit
    job.refresh_from_db()
    assert job.state == "queued" and Device.objects.get(slug="host-cpu").status == "online"
    services.runtime_job_claim(uid=job.uid, host=device_host, device_slug="host-cpu")
    later = timezone.now() + dt.timedelta(seconds=job.options["time_limit_s"] * 2 + 121)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runtime_jobs_recover_stuck(now=later) == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.state == "failed" and job.error_message.startswith("The device stopped answering")
    assert finished_events == [(job.pk, False)]


def test_busy_device_with_nothing_running_is_available_again(host_cpu):
    Device.objects.filter(pk=host_cpu.pk).update(status="busy")
    services.devices_mark_offline()
    assert Device.objects.get(pk=host_cpu.pk).status == "online"
