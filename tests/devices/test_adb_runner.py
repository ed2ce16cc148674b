"""The adb runner through a real adb server and adbutils, against the test device of adb_device.py,
with real TensorFlow-made models run by the stand-in benchmark_model (LiteRT on this machine)."""

import subprocess
import threading
import time

import pytest

from evaluation.runners.adb import AdbRunner, list_adb_devices
from evaluation.runners.base import (
    Accelerator,
    DeviceUnavailable,
    JobTimeout,
    ModelError,
    RunOptions,
)
from tests.devices.conftest import adb

ALL = [Accelerator.CPU, Accelerator.XNNPACK, Accelerator.GPU, Accelerator.NNAPI]


@pytest.fixture
def runner(adb_device, standin_benchmark_model):
    return AdbRunner(
        adb_device.serial, benchmark_model=standin_benchmark_model, accelerators=ALL, tool_version="stand-in"
    )


def leftover_jobs(device):
    jobs = device.data_dir / "mai" / "jobs"
    return sorted(p.name for p in jobs.iterdir()) if jobs.exists() else []


def processes_under(folder) -> list[str]:
    out = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(folder) in line and "ps -eo" not in line]


def test_probe_reads_identity_and_pushes_the_tool_once(runner, adb_device, standin_benchmark_model):
    assert (adb_device.serial, "device") in list_adb_devices()
    info = runner.probe()
    assert info.name == "OPPO Find X2 Pro"
    assert info.soc == "Qualcomm SM8250"
    assert (info.platform, info.transport) == ("android", "adb")
    assert info.details["android_version"] == "13"
    assert info.details["abi"] == "arm64-v8a"
    assert info.accelerators == ALL
    tool = adb_device.data_dir / "mai" / "bin" / "benchmark_model"
    assert tool.read_bytes() == standin_benchmark_model.read_bytes()
    first_mtime = tool.stat().st_mtime_ns

    # A fresh runner (a restarted worker) finds the same bytes on the device and does not push again.
    again = AdbRunner(adb_device.serial, benchmark_model=standin_benchmark_model, accelerators=ALL)
    assert again.probe().details["benchmark_model_sha256"] == info.details["benchmark_model_sha256"]
    assert tool.stat().st_mtime_ns == first_mtime
    assert sum("chmod 755" in c for c in adb_device.commands) == 1
    health = runner.health()
    assert health["state"] == "device" and health["free_mb"] > 1


def test_soc_falls_back_to_board_platform(adb_server, tmp_path, standin_benchmark_model):
    from tests.devices.adb_device import AdbTestDevice
    from tests.devices.conftest import free_port

    device = AdbTestDevice(
        tmp_path / "old",
        free_port(15700),
        props={
            "ro.soc.manufacturer": "",
            "ro.soc.model": "",
            "ro.board.platform": "exynos2100",
            "ro.product.model": "SM-G991B",
            "ro.product.manufacturer": "samsung",
        },
    ).start()
    try:
        # Not connected yet: the runner itself runs `adb connect` for a host:port serial.
        info = AdbRunner(device.serial, benchmark_model=standin_benchmark_model).probe()
        assert info.soc == "exynos2100"
        assert info.name == "samsung SM-G991B"
    finally:
        device.stop()
        adb("disconnect", device.serial)


def test_cpu_job_end_to_end(runner, adb_device, tflite_models):
    options = RunOptions(accelerator=Accelerator.CPU, threads=2, warmup_runs=2, timed_runs=7, time_limit_s=60)
    result = runner.run(tflite_models["conv_float"], options)
    assert result.count == 7
    assert 0 < result.min_ms <= result.median_ms <= result.max_ms
    assert result.min_ms <= result.mean_ms <= result.max_ms
    assert result.init_ms > 0 and result.first_inference_ms > 0
    assert result.peak_memory_mb > 10  # a Python process with LiteRT loaded
    assert result.fully_delegated is None
    assert result.runtime_version == "benchmark_model stand-in"
    assert "--use_xnnpack=false" in result.raw_log and "--num_threads=2" in result.raw_log
    assert "Inference timings in us" in result.raw_log
    run_command = next(c for c in adb_device.commands if "--graph=" in c)
    assert run_command.split(" && ")[1].startswith("timeout -k 5 60 /data/local/tmp/mai/bin/benchmark_model")
    assert leftover_jobs(adb_device) == []


def test_gpu_job_reports_full_delegation_and_pins_to_big_cores(
    adb_device, standin_benchmark_model, tflite_models
):
    runner = AdbRunner(
        adb_device.serial, benchmark_model=standin_benchmark_model, accelerators=ALL, big_cores="1"
    )
    result = runner.run(
        tflite_models["conv_int8"],
        RunOptions(
            accelerator=Accelerator.GPU, timed_runs=3, pin_big_cores=True, require_full_delegation=True
        ),
    )
    assert result.fully_delegated is True
    assert "--use_gpu=true" in result.raw_log and "--require_full_delegation=true" in result.raw_log
    assert "taskset 1 /data/local/tmp/mai/bin/benchmark_model" in result.raw_log


def test_partial_delegation_is_flagged_or_refused(runner, adb_device, tflite_models):
    adb_device.fault = "partial"
    result = runner.run(tflite_models["conv_float"], RunOptions(accelerator=Accelerator.NNAPI, timed_runs=3))
    assert (result.fully_delegated, result.delegate_kernels) == (False, 3)
    with pytest.raises(ModelError) as refused:
        runner.run(
            tflite_models["conv_float"],
            RunOptions(accelerator=Accelerator.NNAPI, timed_runs=3, require_full_delegation=True),
        )
    assert "Disallowed CPU fallback detected." in refused.value.message
    assert leftover_jobs(adb_device) == []


def test_delegate_rejection_shows_the_tools_error(runner, adb_device, tflite_models):
    adb_device.fault = "reject"
    with pytest.raises(ModelError) as failed:
        runner.run(tflite_models["conv_float"], RunOptions(accelerator=Accelerator.GPU, timed_runs=3))
    assert "Failed to apply GPU delegate." in failed.value.message
    assert "Node number 3 (TfLiteGPUDelegateV2) failed to prepare." in failed.value.message
    assert not isinstance(failed.value, JobTimeout)


def test_broken_model_and_crash_fail_the_job(runner, adb_device, tmp_path, tflite_models):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"TFL3" + b"\x00" * 64)
    with pytest.raises(ModelError) as failed:
        runner.run(broken, RunOptions(timed_runs=2))
    assert "Benchmarking failed." in failed.value.message
    adb_device.fault = "crash"
    with pytest.raises(ModelError) as crashed:
        runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    assert "SIGSEGV" in crashed.value.message


def test_dynamic_input_is_resized_by_name(runner, adb_device, tflite_models):
    result = runner.run(
        tflite_models["conv_dynamic"], RunOptions(timed_runs=3, input_shapes={0: [1, 48, 64, 3]})
    )
    assert "--input_layer_shape=1,48,64,3" in result.raw_log
    assert "--input_layer=" in result.raw_log
    assert result.count == 3


def test_unoffered_accelerator_is_refused(adb_device, standin_benchmark_model, tflite_models):
    runner = AdbRunner(
        adb_device.serial, benchmark_model=standin_benchmark_model, accelerators=[Accelerator.CPU]
    )
    with pytest.raises(ModelError, match="GPU is not offered"):
        runner.run(tflite_models["conv_float"], RunOptions(accelerator=Accelerator.GPU))


def test_hang_is_killed_on_the_device(runner, adb_device, tflite_models):
    adb_device.fault = "hang"
    started = time.monotonic()
    with pytest.raises(JobTimeout) as timed_out:
        runner.run(tflite_models["conv_float"], RunOptions(time_limit_s=2))
    assert 2 <= time.monotonic() - started < 20
    assert "did not finish within 2 s" in timed_out.value.message
    assert processes_under(adb_device.data_dir / "mai" / "jobs") == []
    assert leftover_jobs(adb_device) == []


def test_no_space_makes_the_device_unavailable(runner, adb_device, tflite_models):
    runner.probe()
    adb_device.fault = "nospace"
    with pytest.raises(DeviceUnavailable, match="no space left on device"):
        runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    assert runner.health()["free_mb"] == 0.1  # what the full device's df says


def test_unplugged_mid_job_then_back(runner, adb_device, tflite_models):
    runner.probe()
    adb_device.fault = "disconnect"
    with pytest.raises(DeviceUnavailable, match="went away during the job"):
        runner.run(tflite_models["conv_float"], RunOptions(timed_runs=200, time_limit_s=60))
    assert runner.state() in ("offline", "missing") and not runner.available()
    assert processes_under(adb_device.data_dir / "mai" / "jobs")  # still running on the "phone"
    with pytest.raises(DeviceUnavailable):
        runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    # Plugged back: the same runner reconnects and the retried job runs on the same device.
    adb_device.fault = ""
    adb_device.replug()
    result = runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    assert result.count == 2
    assert runner.state() == "device" and runner.available()
    # The orphaned benchmark was killed before the retried job ran, and its files are gone.
    assert processes_under(adb_device.data_dir / "mai" / "jobs") == []
    assert leftover_jobs(adb_device) == []


def test_adb_server_restart(runner, adb_device, tflite_models):
    runner.probe()
    adb("kill-server")
    # Between jobs: the runner starts the server again and reconnects the TCP device.
    assert runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2)).count == 2

    # During a job: the job is given back for a retry, not failed.
    adb_device.fault = "slow"
    errors = []

    def job():
        try:
            runner.run(tflite_models["conv_float"], RunOptions(timed_runs=4, time_limit_s=60))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    deadline = time.monotonic() + 20
    while not any("--graph=" in c for c in adb_device.commands[-1:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    adb("kill-server")
    thread.join(90)
    assert len(errors) == 1 and isinstance(errors[0], DeviceUnavailable), errors
    adb_device.fault = ""
    assert runner.run(tflite_models["conv_float"], RunOptions(timed_runs=2)).count == 2


def test_flags_per_accelerator(standin_benchmark_model):
    runner = AdbRunner(
        "SERIAL",
        benchmark_model=standin_benchmark_model,
        accelerators=Accelerator.ALL,
        external_delegate_path="/vendor/lib64/libneuron_delegate.so",
        external_delegate_options="priority:high",
    )
    expected = {
        Accelerator.CPU: "--use_xnnpack=false",
        Accelerator.XNNPACK: "--use_xnnpack=true",
        Accelerator.GPU: "--use_gpu=true",
        Accelerator.NNAPI: "--use_nnapi=true",
        Accelerator.HEXAGON: "--use_hexagon=true",
        Accelerator.NPU: "--external_delegate_path=/vendor/lib64/libneuron_delegate.so "
        "--external_delegate_options=priority:high",
    }
    for accelerator, flags in expected.items():
        command = runner.command_for(
            "/data/local/tmp/mai/jobs/x/model.tflite",
            RunOptions(accelerator=accelerator, threads=4, warmup_runs=3, timed_runs=50, time_limit_s=120.5),
        )
        assert command == (
            "timeout -k 5 121 /data/local/tmp/mai/bin/benchmark_model "
            "--graph=/data/local/tmp/mai/jobs/x/model.tflite --num_threads=4 --warmup_runs=3 --num_runs=50 "
            f"--warmup_min_secs=0 --min_secs=0 --max_secs=120 --report_peak_memory_footprint=true {flags}"
        )


def test_npu_through_an_external_delegate(adb_device, standin_benchmark_model, tflite_models):
    runner = AdbRunner(
        adb_device.serial,
        benchmark_model=standin_benchmark_model,
        accelerators=[Accelerator.CPU, Accelerator.NPU],
        external_delegate_path="/vendor/lib64/libneuron_delegate.so",
    )
    result = runner.run(tflite_models["conv_int8"], RunOptions(accelerator=Accelerator.NPU, timed_runs=3))
    assert result.fully_delegated is True
    assert "Explicitly applied EXTERNAL delegate" in result.raw_log
    unconfigured = AdbRunner(
        adb_device.serial, benchmark_model=standin_benchmark_model, accelerators=[Accelerator.NPU]
    )
    with pytest.raises(ModelError, match="no NPU delegate configured"):
        unconfigured.run(tflite_models["conv_int8"], RunOptions(accelerator=Accelerator.NPU))
