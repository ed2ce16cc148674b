"""End to end through a device host: a device worker process (no database settings) serving the test
phone over the real adb server and the test board over the real sshd, configured by a DEVICE_HOST_CONFIG
file, takes jobs queued on the live site and reports their results; a delegate's refusal fails the job
with the tool's words, and a phone unplugged mid-job gets its job back and runs it when it returns (the
device worker retries a released job after 30 s, which is most of this test's time)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation import services
from evaluation.models import Device, RuntimeJob
from tests.conftest import ROOT, wait_for
from tests.devices.test_ssh_runner import LITERT_BENCHMARK

pytestmark = pytest.mark.django_db(transaction=True)
HOST = "test-device-host-adb-ssh"


def start_worker(*, site_url, token, broker_url, devices, extra_env) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "CELERY_BROKER_URL": broker_url,
        "SITE_URL": site_url,
        "DEVICE_TOKEN": token,
        "DEVICE_HEARTBEAT_S": "0.5",
        **extra_env,
    }
    log = open(Path(os.environ["VAR_DIR"]) / "device-host-adb-ssh.log", "w")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
    cmd = [sys.executable, "-m", "evaluation.device_worker", "--loglevel", "INFO"]
    for spec in devices:
        cmd += ["--device", spec]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_jobs_on_a_phone_and_a_board_through_the_device_worker(
    live_server, adb_device, sshd, standin_benchmark_model, tflite_models, make_user, tmp_path, settings
):
    from evaluation.tokens import device_host_token
    from tests.evaluation.workers import purge_device_queue, stop, wait_for_consumer

    config = tmp_path / "device-host.toml"
    config.write_text(f"""
[adb."{adb_device.serial}"]
benchmark_model = "{standin_benchmark_model}"
accelerators = ["cpu", "xnnpack", "gpu", "nnapi"]
slug = "test-phone"
tool_version = "stand-in"

[ssh."{sshd.user}@127.0.0.1:{sshd.port}"]
key = "{sshd.user_key}"
known_hosts = "{sshd.known_hosts}"
litert_benchmark = "{LITERT_BENCHMARK}"
work_root = "{tmp_path / "board-jobs"}"
slug = "test-board"
name = "Raspberry Pi 4 (test)"
""")
    for slug in ("test-phone", "test-board"):
        purge_device_queue(slug)
    proc = start_worker(
        site_url=live_server.url,
        token=device_host_token(HOST),
        broker_url=settings.CELERY_BROKER_URL,
        devices=[f"adb:{adb_device.serial}", f"ssh:{sshd.user}@127.0.0.1:{sshd.port}"],
        extra_env={
            "DEVICE_HOST_CONFIG": str(config),
            "ANDROID_ADB_SERVER_PORT": os.environ["ANDROID_ADB_SERVER_PORT"],
        },
    )
    try:
        wait_for_consumer("test-phone")
        wait_for_consumer("test-board")
        phone = wait_for(lambda: Device.objects.filter(slug="test-phone").first(), timeout=30)
        board = Device.objects.get(slug="test-board")
        assert (phone.transport, phone.platform, phone.soc, phone.name) == (
            "adb",
            "android",
            "Qualcomm SM8250",
            "OPPO Find X2 Pro",
        )
        assert phone.details["android_version"] == "13" and phone.details["abi"] == "arm64-v8a"
        assert phone.accelerators == ["cpu", "xnnpack", "gpu", "nnapi"]
        assert (board.transport, board.platform, board.name) == ("ssh", "linux", "Raspberry Pi 4 (test)")

        owner = make_user()

        def submit(path, device, accelerator, **options):
            return services.runtime_job_create(
                owner=owner,
                model_file=SimpleUploadedFile(path.name, path.read_bytes()),
                device=device,
                accelerator=accelerator,
                options={"timed_runs": 5, **options},
                check_rate=False,
            )

        def finished(job, timeout=90):
            return wait_for(
                lambda: RuntimeJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).first(),
                timeout=timeout,
            )

        on_gpu = submit(tflite_models["conv_int8"], "test-phone", "gpu")
        on_board = submit(tflite_models["conv_float"], "test-board", "cpu")
        dynamic = submit(tflite_models["conv_dynamic"], "test-phone", "cpu", input_shapes={0: [1, 40, 56, 3]})
        for job in (on_gpu, on_board, dynamic):
            done = finished(job)
            assert done.state == "done", done.error_message
            assert done.runs == 5 and 0 < done.min_ms <= done.median_ms <= done.max_ms
        on_gpu = RuntimeJob.objects.get(pk=on_gpu.pk)
        assert on_gpu.runtime_version == "benchmark_model stand-in" and on_gpu.fully_delegated is True
        assert "--use_gpu=true" in on_gpu.raw_log
        assert "--input_layer_shape=1,40,56,3" in RuntimeJob.objects.get(pk=dynamic.pk).raw_log
        assert RuntimeJob.objects.get(pk=on_board.pk).runtime_version.startswith(
            "litert-benchmark (ai-edge-litert"
        )

        # A model the GPU delegate rejects: the job fails with the tool's words.
        adb_device.fault = "reject"
        rejected = finished(submit(tflite_models["conv_float"], "test-phone", "gpu"))
        assert rejected.state == "failed"
        assert "Failed to apply GPU delegate." in rejected.error_message
        assert rejected.attempts == 1

        # The phone is unplugged mid-job: the job goes back to the queue (not failed), and runs again
        # once the phone is back, counted once.
        adb_device.fault = "disconnect"
        cut = submit(tflite_models["conv_float"], "test-phone", "cpu")
        wait_for(lambda: RuntimeJob.objects.filter(pk=cut.pk, state="running").exists(), timeout=30)
        released = wait_for(
            lambda: RuntimeJob.objects.filter(pk=cut.pk, state="queued", attempts=1).first(), timeout=30
        )
        assert released.error_message == ""
        adb_device.fault = ""
        adb_device.replug()
        done = finished(cut)
        assert done.state == "done", done.error_message
        assert done.attempts == 2 and done.runs == 5
    finally:
        stop(proc)
