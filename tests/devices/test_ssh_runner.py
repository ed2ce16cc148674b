"""The ssh runner against a real OpenSSH server on loopback, running the real `litert-benchmark` of the
project's virtualenv on real TensorFlow-made models."""

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from evaluation.runners.base import Accelerator, DeviceUnavailable, JobTimeout, ModelError, RunOptions
from evaluation.runners.ssh import SshRunner

LITERT_BENCHMARK = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "litert-benchmark")


@pytest.fixture
def board(sshd, tmp_path):
    return SshRunner(
        "127.0.0.1",
        port=sshd.port,
        username=sshd.user,
        key_path=sshd.user_key,
        known_hosts=sshd.known_hosts,
        litert_benchmark=LITERT_BENCHMARK,
        accelerators=[Accelerator.CPU, Accelerator.GPU],
        work_root=str(tmp_path / "board-jobs"),
        name="Raspberry Pi 4 (test)",
    )


def test_probe(board):
    info = board.probe()
    assert (info.platform, info.transport, info.name) == ("linux", "ssh", "Raspberry Pi 4 (test)")
    from importlib.metadata import version  # the board's ai-edge-litert is this virtualenv's

    assert info.details["runtime_version"] == f"litert-benchmark (ai-edge-litert {version('ai-edge-litert')})"
    assert (
        info.details["arch"] == subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    )
    assert info.soc  # the CPU model here; a Pi reports its SoC from the device tree
    assert board.state() == "online"
    assert board.health()["free_mb"] > 1


def test_job_end_to_end_matches_the_tools_own_json(board, tflite_models, tmp_path):
    result = board.run(tflite_models["conv_int8"], RunOptions(threads=1, warmup_runs=2, timed_runs=9))
    assert result.count == 9
    assert 0 < result.min_ms <= result.median_ms <= result.max_ms
    assert result.init_ms > 0 and result.first_inference_ms > 0
    assert result.peak_memory_mb > 20  # LiteRT's process tree, measured on the board
    assert result.fully_delegated is None
    assert "--num_runs 9" in result.raw_log and "BENCHMARK RESULTS" in result.raw_log
    assert list((tmp_path / "board-jobs").iterdir()) == []  # the job's folder is gone

    # The figures are the tool's: the same run by hand prints the same structure.
    out = tmp_path / "direct.json"
    subprocess.run(
        [
            LITERT_BENCHMARK,
            "--model",
            str(tflite_models["conv_int8"]),
            "--num_runs",
            "3",
            "--result_json",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert set(json.loads(out.read_text())["latency"]) >= {"avg_ms", "median_ms", "init_ms", "num_runs"}


def test_unknown_host_key_and_refused_key(sshd, board, tmp_path):
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "impostor")], check=True
    )
    impostor = (tmp_path / "impostor.pub").read_text().split()
    other = tmp_path / "other_known_hosts"
    other.write_text(f"[127.0.0.1]:{sshd.port} {impostor[0]} {impostor[1]}\n")
    board.known_hosts = other
    with pytest.raises(DeviceUnavailable, match="host key"):
        board.probe()
    board.known_hosts = tmp_path / "empty_known_hosts"
    board.known_hosts.write_text("")
    with pytest.raises(DeviceUnavailable, match="no registered host key"):
        board.probe()


def test_failure_shows_the_tools_error(board, tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x00" * 128)
    with pytest.raises(ModelError) as failed:
        board.run(broken, RunOptions(timed_runs=2))
    assert "litert-benchmark failed on the board" in failed.value.message
    assert "RuntimeError: Failed to load model from file" in failed.value.message
    assert "Failed to build flatbuffer model" in failed.value.message
    assert "Traceback" not in failed.value.message and "Traceback" in failed.value.log


def test_dynamic_shapes_are_refused_with_a_reason(board, tflite_models):
    with pytest.raises(ModelError, match="cannot resize inputs"):
        board.run(tflite_models["conv_dynamic"], RunOptions(input_shapes={0: [1, 32, 32, 3]}))


def test_too_slow_is_killed_on_the_board(board, tflite_models, tmp_path):
    started = time.monotonic()
    with pytest.raises(JobTimeout, match="within 2 s"):
        board.run(tflite_models["conv_float"], RunOptions(timed_runs=10_000_000, time_limit_s=2))
    assert time.monotonic() - started < 20
    ps = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path / "board-jobs") not in ps


def test_no_space_on_the_board(sshd, board, tflite_models):
    sshd.set_full(True)
    with pytest.raises(DeviceUnavailable, match="no space left on board"):
        board.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    sshd.set_full(False)
    assert board.run(tflite_models["conv_float"], RunOptions(timed_runs=2)).count == 2


def test_board_lost_mid_job_then_back(sshd, board, tflite_models):
    errors = []

    def job():
        try:
            board.run(tflite_models["conv_float"], RunOptions(timed_runs=10_000_000, time_limit_s=60))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(2.5)
    sshd.stop()
    thread.join(60)
    assert len(errors) == 1 and isinstance(errors[0], DeviceUnavailable), errors
    assert board.state() == "offline" and not board.available()
    with pytest.raises(DeviceUnavailable, match="unreachable"):
        board.run(tflite_models["conv_float"], RunOptions(timed_runs=2))
    sshd.start()
    assert board.run(tflite_models["conv_float"], RunOptions(timed_runs=2)).count == 2


def test_error_text_keeps_the_tools_words():
    # litert-benchmark logs `%(asctime)s %(levelname)s %(name)s: %(message)s`.
    log = (
        "2026-11-25 12:00:00 INFO benchmark_litert_model: Fully accelerated: False\n"
        "2026-11-25 12:00:00 ERROR benchmark_litert_model: Model is not fully accelerated but "
        "--require_full_delegation was set.\n"
        "INFO: [accelerator_registry.cc:43] DestroyAccelerator: ptr=0x1, name=CpuAccelerator\n"
    )
    assert SshRunner._error_text(log) == (
        "Model is not fully accelerated but --require_full_delegation was set."
    )
