"""Measurement depth over adb: repetitions with temperatures and power read on the "phone" (the adb
stand-in device, whose stand-in sysfs tree moves with the work its shell commands do), the op profile
printed by the stand-in `benchmark_model --enable_op_profiling=true` in the real tool's format, and the
reproducibility record from the phone's properties."""

import hashlib
from pathlib import Path

import pytest

from evaluation.runners.adb import AdbRunner
from evaluation.runners.base import Accelerator, RunOptions
from tests.devices.fake_sysfs import FakeSysfs


@pytest.fixture
def phone_sysfs(tmp_path):
    with FakeSysfs(tmp_path / "phone-sysfs", ambient_c=30.0, heat_c_per_busy_s=6.0) as tree:
        yield tree


def test_adb_job_repeats_with_temperatures_power_profile_and_record(
    adb_device, standin_benchmark_model, tflite_models, phone_sysfs
):
    runner = AdbRunner(
        adb_device.serial,
        benchmark_model=standin_benchmark_model,
        accelerators=[Accelerator.CPU, Accelerator.XNNPACK],
        tool_version="stand-in",
        sysfs_root=str(phone_sysfs.root),
    )
    model = tflite_models["conv_float"]
    options = RunOptions(
        accelerator=Accelerator.XNNPACK,
        timed_runs=20,
        repetitions=2,
        cooldown_threshold_c=80.0,
        time_limit_s=60,
        profile=True,
    )
    result = runner.run(model, options)
    assert result.count == 40 and [r["n"] for r in result.repetitions] == [20, 20]
    assert "--enable_op_profiling=true" in result.raw_log
    first, second = result.repetitions
    # Each run of the tool heats the phone: its zones read hotter after the run than before.
    for repetition in result.repetitions:
        before = max(z["temp_c"] for z in repetition["thermal_before"]["zones"])
        after = max(z["temp_c"] for z in repetition["thermal_after"]["zones"])
        assert after > before
    assert [z["name"] for z in first["thermal_before"]["zones"]] == ["cpu-big", "battery"]
    assert second["cooldown"] == {
        "kind": "threshold",
        "waited_s": second["cooldown"]["waited_s"],
        "reached": True,
    }
    # The battery gauge, sampled on the device during the runs, above its idle baseline.
    power = result.power
    assert (power["source"], power["sensor"]) == ("battery", "battery")
    assert power["samples"] > 0 and power["baseline_samples"] > 0 and power["load_w"] > power["idle_w"]
    assert result.energy_mj == pytest.approx(result.power_w * result.mean_ms)
    # The op profile in the tool's own format, parsed back.
    profile = result.profile
    assert profile["source"] == "benchmark_model --enable_op_profiling"
    nodes = [(n["index"], n["type"], n["on"]) for n in profile["nodes"]]
    assert nodes == [
        (0, "CONV_2D", "delegate"),
        (1, "CONV_2D", "delegate"),
        (2, "LOGISTIC", "delegate"),
        (3, "MUL", "delegate"),
    ]
    assert all(n["ms"] > 0 for n in profile["nodes"][:2])
    assert profile["summary"] == "fully delegated to XNNPACK"
    record = result.reproducibility
    assert record["device"] == "Find X2 Pro" and record["soc"] == "SM8250"
    assert record["os_build"] == "OPPO/CPH2025EEA/OP4A89:13/TP1A.220905.001/R.1234567:user/release-keys"
    assert record["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()


def test_ssh_board_repeats_with_temperatures_and_an_ina_power_sensor(sshd, tflite_models, tmp_path):
    """The real sshd test host with a stand-in sysfs tree: thermal zones and an INA226 on hwmon (µW)."""
    from evaluation.runners.ssh import SshRunner

    root = tmp_path / "board-sysfs"
    board = SshRunner(
        "127.0.0.1",
        port=sshd.port,
        username=sshd.user,
        key_path=sshd.user_key,
        known_hosts=sshd.known_hosts,
        litert_benchmark=str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "litert-benchmark"),
        work_root=str(tmp_path / "board-jobs"),
        name="Raspberry Pi 4 (test)",
        sysfs_root=str(root),
    )
    model = tflite_models["conv_float"]
    options = RunOptions(
        timed_runs=20, repetitions=2, cooldown_threshold_c=80.0, profile=True, time_limit_s=60
    )
    with FakeSysfs(root, battery=False, ina=True, ambient_c=30.0, heat_c_per_busy_s=6.0):
        result = board.run(model, options)
    assert result.count == 40 and [r["n"] for r in result.repetitions] == [20, 20]
    for repetition in result.repetitions:
        before = max(z["temp_c"] for z in repetition["thermal_before"]["zones"])
        after = max(z["temp_c"] for z in repetition["thermal_after"]["zones"])
        assert after > before
    power = result.power
    assert (power["source"], power["sensor"]) == ("hwmon_power", "ina226")
    assert power["estimated"] == "estimated from the board's power sensor"
    assert power["load_w"] > power["idle_w"] and result.energy_mj == pytest.approx(
        result.power_w * result.mean_ms
    )
    # Two repetitions of the tool: mean and deviation pooled, no median to merge.
    means = [r["mean_ms"] for r in result.repetitions]
    assert result.mean_ms == pytest.approx(sum(means) / 2) and result.median_ms is None
    assert "no per-operator times" in result.profile["error"]
    record = result.reproducibility
    assert record["os_build"].startswith("Linux ") and record["tool"] == "litert-benchmark"
    assert record["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
