"""The local runner on this host's CPU: registration with the real CPU model, the measurement protocol's
figures, XNNPACK vs plain kernels, dynamic inputs, the time limit, and bad models as verdicts."""

import time
from pathlib import Path

import ai_edge_litert
import pytest

from evaluation.runners.base import Accelerator, JobTimeout, ModelError, RunOptions
from evaluation.runners.local import LocalRunner, runner_from_spec


def test_probe_reports_the_real_cpu_model():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    expected = next(
        line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")
    )
    info = runner_from_spec("host-cpu").probe()
    assert info.slug == "host-cpu" and info.transport == "local" and info.platform == "linux"
    assert info.soc == " ".join(expected.split())
    assert expected.split()[0] in info.name
    assert info.accelerators == [Accelerator.CPU, Accelerator.XNNPACK]


@pytest.mark.parametrize("accelerator", [Accelerator.CPU, Accelerator.XNNPACK])
def test_run_reports_the_benchmark_figures(tflite_models, accelerator):
    result = LocalRunner().run(
        tflite_models["conv_int8"], RunOptions(accelerator=accelerator, timed_runs=30, warmup_runs=2)
    )
    assert result.count == 30
    assert 0 < result.min_ms <= result.median_ms <= result.max_ms
    assert result.min_ms <= result.mean_ms <= result.max_ms
    assert result.std_ms >= 0 and result.init_ms > 0 and result.first_inference_ms > 0
    assert 0 < result.peak_memory_mb < 500
    assert result.runtime_version.startswith(f"LiteRT {ai_edge_litert.__version__}")
    assert ("XNNPACK" in result.runtime_version) == (accelerator == Accelerator.XNNPACK)
    assert "Timed runs: 30" in result.raw_log and "uint8 1x32x32x3" in result.raw_log


def test_dynamic_input_is_resized_before_timing(tflite_models):
    runner = LocalRunner()
    small = runner.run(
        tflite_models["conv_dynamic"], RunOptions(input_shapes={0: [1, 16, 16, 3]}, timed_runs=10)
    )
    large = runner.run(
        tflite_models["conv_dynamic"], RunOptions(input_shapes={"0": [1, 256, 256, 3]}, timed_runs=10)
    )
    assert "float32 1x256x256x3" in large.raw_log
    # 256 times more pixels: clearly slower (not the meaningless 1×1 default of a dynamic model).
    assert large.median_ms > 20 * small.median_ms


def test_model_that_runs_too_long_is_stopped_at_the_time_limit(tflite_models):
    started = time.monotonic()
    with pytest.raises(JobTimeout) as excinfo:
        LocalRunner().run(
            tflite_models["conv_dynamic"],
            RunOptions(input_shapes={0: [1, 1024, 1024, 3]}, timed_runs=500, time_limit_s=1.5),
        )
    assert time.monotonic() - started < 5
    assert "stopped at the job's time limit of 1.5 s" in excinfo.value.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("custom_op", "“MaiSecretOp”, which LiteRT does not provide"),
        ("huge_input", "which needs 10.1 GB of memory"),
        ("truncated", "LiteRT cannot load this model"),
    ],
)
def test_bad_model_is_a_model_error_and_the_runner_keeps_working(tflite_models, bad_models, name, expected):
    runner = LocalRunner()
    with pytest.raises(ModelError) as excinfo:
        runner.run(bad_models[name], RunOptions())
    assert expected in excinfo.value.message
    assert runner.run(tflite_models["conv_float"], RunOptions(timed_runs=3)).count == 3


def test_accelerator_the_host_lacks_is_refused(tflite_models):
    with pytest.raises(ModelError, match="no GPU accelerator"):
        LocalRunner().run(tflite_models["conv_float"], RunOptions(accelerator=Accelerator.GPU))
