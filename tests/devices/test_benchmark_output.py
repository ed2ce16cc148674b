"""The benchmark_model parser on verbatim outputs of the real tool (tests/devices/outputs/), old and new."""

from pathlib import Path

import pytest

from evaluation.benchmark_output import StatLine, parse_benchmark_output

OUTPUTS = Path(__file__).parent / "outputs"


def parsed(name):
    text = (OUTPUTS / name).read_text()
    return parse_benchmark_output(text), text


def test_new_prefixed_output_with_percentiles():
    out, text = parsed("android_aarch64_percentiles.txt")
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert result.init_ms == pytest.approx(119.515)
    assert result.first_inference_ms == pytest.approx(87.112)
    assert result.mean_ms == pytest.approx(63.7432)
    assert result.median_ms == pytest.approx(51.891)
    assert result.min_ms == pytest.approx(49.088)
    assert result.max_ms == pytest.approx(686.105)
    assert result.std_ms == pytest.approx(60.716)
    assert result.count == 1000
    assert out.warmup.count == 9 and out.warmup.p95 == 87112
    assert result.peak_memory_mb == pytest.approx(55.4961)
    assert out.memory_init_mb == pytest.approx(55.4961)
    assert out.model_size_mb == pytest.approx(24.6229)
    # The default XNNPACK delegate's VERBOSE line is not an explicitly chosen accelerator.
    assert result.fully_delegated is None


def test_unprefixed_output_with_scientific_notation_and_single_warmup_run():
    out, text = parsed("riscv_unprefixed_scientific.txt")
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert result.mean_ms == pytest.approx(2950.34)
    assert out.warmup_avg_us == pytest.approx(3512390)
    assert out.warmup.count == 1 and out.warmup.curr == 3512391 and out.warmup.std == 0
    assert result.first_inference_ms == pytest.approx(3512.391)
    assert result.init_ms == pytest.approx(17.187)
    assert result.min_ms == pytest.approx(2727.568)
    assert result.median_ms is None  # this version prints no percentiles
    assert result.peak_memory_mb == pytest.approx(46.0859)
    assert out.errors == []


def test_percentiles_on_a_single_run_and_scientific_avg():
    out, _ = parsed("percentiles_scientific.txt")
    assert out.warmup.count == 1 and out.warmup.median == 1357602
    assert out.inference.avg == pytest.approx(1.24027e6)
    assert out.inference.median == 1239807
    assert out.warmup_avg_us == pytest.approx(1.3576e6)
    assert out.init_us == 5579
    assert out.memory_overall_mb == pytest.approx(109.832)


def test_partial_delegation_is_flagged():
    out, text = parsed("xnnpack_partial.txt")
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert out.delegate == "XNNPACK"
    assert result.fully_delegated is False
    assert result.delegate_kernels == 1
    assert result.mean_ms == pytest.approx(602.943)
    assert result.first_inference_ms == pytest.approx(633.43)

    out, _ = parsed("nnapi_partial_unprefixed.txt")
    assert (out.delegate, out.fully_delegated, out.delegate_kernels) == ("NNAPI", False, 11)
    assert out.inference_avg_us == 143630 and out.inference is None


def test_full_gpu_delegation_and_periodic_peak_memory():
    out, text = parsed("gpu_full_peak_memory.txt")
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert (out.delegate, result.fully_delegated) == ("GPU", True)
    assert result.peak_memory_mb == pytest.approx(74.6641)
    assert result.count == 1694
    assert out.warmup.count == 13
    assert result.mean_ms == pytest.approx(35.1349)
    assert result.init_ms == pytest.approx(842.225)


def test_tf1_no_stats_wording():
    out, text = parsed("tf1_no_stats.txt")
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert result.mean_ms == pytest.approx(2.1771)
    assert result.init_ms == pytest.approx(0.896)
    assert result.first_inference_ms == pytest.approx(12.231)
    assert result.count == 459
    assert result.peak_memory_mb is None


def test_failure_keeps_the_tools_error_text():
    out, _ = parsed("prepare_failure.txt")
    assert not out.succeeded
    assert "Node number 57 (BATCH_MATMUL) failed to prepare." in out.error_text
    assert out.errors[-1] == "Benchmarking failed."
    with pytest.raises(ValueError, match="no inference timings"):
        out.to_run_result(runtime_version="bm", raw_log="")


def test_all_same_and_old_peak_memory_lines_and_logcat_prefix():
    # `Stat::OutputToStream` prints `count=N curr=X(all same)` when every run took the same time, and
    # TF 2.2's listener printed `Peak memory footprint (MB): init=… overall=…`.
    text = (
        "07-14 13:20:57.779 24964 24964 I tflite  : Initialized session in 3.337ms.\n"
        "07-14 13:20:57.779 24964 24964 I tflite  : count=3 curr=250(all same)\n"
        "07-14 13:20:57.779 24964 24964 I tflite  : count=5 curr=200(all same)\n"
        "07-14 13:20:57.779 24964 24964 I tflite  : Peak memory footprint (MB): init=1.5 overall=2.25\n"
    )
    out = parse_benchmark_output(text)
    result = out.to_run_result(runtime_version="bm", raw_log=text)
    assert out.inference.all_same and out.inference.count == 5
    assert (result.mean_ms, result.median_ms, result.min_ms, result.max_ms, result.std_ms) == (
        0.2,
        0.2,
        0.2,
        0.2,
        0.0,
    )
    assert result.first_inference_ms == 0.25
    assert result.init_ms == pytest.approx(3.337)
    assert result.peak_memory_mb == 2.25


def test_stat_line_with_empty_count():
    assert StatLine.parse("count=0") is None


def test_delegate_that_takes_nothing_and_two_delegates():
    # benchmark_tflite_model.cc: "Though <name> delegate is explicitly applied, the model graph will not be
    # executed by the delegate." — and one line per delegate when several are applied.
    out = parse_benchmark_output(
        "INFO: Though Hexagon delegate is explicitly applied, the model graph will not be executed by the "
        "delegate.\nINFO: Inference timings in us: Init: 10, First inference: 20, Warmup (avg): 20, "
        "Inference (avg): 15\n"
    )
    assert (out.delegate, out.fully_delegated, out.delegate_kernels) == ("Hexagon", False, 0)
    out = parse_benchmark_output(
        "INFO: Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate.\n"
        "INFO: Explicitly applied XNNPACK delegate, and the model graph will be partially executed by the "
        "delegate w/ 2 delegate kernels.\n"
    )
    assert (out.delegate, out.fully_delegated) == ("GPU", True)
    assert not out.succeeded
