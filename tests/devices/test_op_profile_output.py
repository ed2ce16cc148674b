"""`evaluation.profiling.parse_op_profile` on verbatim op-profiling output of TFLite's `benchmark_model`
(both table layouts; see tests/devices/outputs/README.md for where each sample comes from)."""

from pathlib import Path

import pytest

from evaluation.benchmark_output import parse_benchmark_output
from evaluation.profiling import delegation_summary, parse_op_profile, top_operator_types

OUTPUTS = Path(__file__).parent / "outputs"


def test_tab_separated_run_order_with_start_column_on_the_cpu():
    text = (OUTPUTS / "op_profiling_riscv_mobilenet_v1.txt").read_text()
    profile = parse_op_profile(text)
    assert len(profile["nodes"]) == 31 and profile["node_count"] == 31
    first, last = profile["nodes"][0], profile["nodes"][-1]
    assert (first["index"], first["type"], first["ms"], first["calls"]) == (0, "CONV_2D", 60.957, 1)
    assert first["name"] == "[MobilenetV1/MobilenetV1/Conv2d_0/Relu6]:0"
    assert (last["index"], last["type"], last["ms"]) == (30, "SOFTMAX", 0.233)
    # The summary by node type is the tool's own, not recomputed.
    assert [(t["type"], t["count"], t["ms"]) for t in profile["by_type"][:2]] == [
        ("CONV_2D", 15, 2651.853),
        ("DEPTHWISE_CONV_2D", 13, 296.919),
    ]
    assert profile["by_type"][0]["percent"] == pytest.approx(89.897)
    # No delegate: every node ran on the CPU; the initialisation table is not mistaken for operators.
    assert profile["delegate"] == "" and profile["cpu_nodes"] == 31
    assert profile["summary"] == "no delegate: all 31 nodes on the CPU"
    # The node times add up to the tool's own average inference (2.95034e+06 us) within rounding.
    assert profile["total_ms"] == pytest.approx(2950.34, rel=0.001)
    # The same text still gives the ordinary results.
    assert parse_benchmark_output(text).inference_avg_us == pytest.approx(2.95034e06)


def test_space_aligned_run_order_with_xnnpack_rows_and_cpu_fallbacks():
    text = (OUTPUTS / "op_profiling_xnnpack_x86_excerpt.txt").read_text()
    profile = parse_op_profile(text)
    assert len(profile["nodes"]) == 13 and profile["node_count"] == 171
    dwconv = profile["nodes"][2]
    # [avg ms] is per call: 13 calls of 0.051 ms each per inference.
    assert (dwconv["type"], dwconv["calls"], dwconv["ms"]) == (
        "Convolution (NHWC, QC8) DWConv",
        13,
        pytest.approx(0.663),
    )
    assert dwconv["on"] == "delegate" and dwconv["name"] == "Delegate/Convolution (NHWC, QC8) DWConv:1"
    cpu = [(n["index"], n["type"]) for n in profile["nodes"] if n["on"] == "cpu"]
    assert cpu == [
        (0, "QUANTIZE"),
        (66, "RESIZE_NEAREST_NEIGHBOR"),
        (70, "RESIZE_NEAREST_NEIGHBOR"),
        (266, "TFLite_Detection_PostProcess"),
    ]
    assert profile["delegate"] == "XNNPACK"
    assert profile["cpu_types"] == {
        "RESIZE_NEAREST_NEIGHBOR": 2,
        "QUANTIZE": 1,
        "TFLite_Detection_PostProcess": 1,
    }
    # With the model's operator count from intake, the sentence a participant reads:
    assert delegation_summary(profile, model_nodes=267) == (
        "partially delegated to XNNPACK: 4 of 267 nodes on CPU: RESIZE_NEAREST_NEIGHBOR ×2, QUANTIZE ×1, "
        "TFLite_Detection_PostProcess ×1"
    )
    top = top_operator_types(profile, limit=3)
    assert [(t["type"], t["ms"], t["on"]) for t in top] == [
        ("Convolution (NHWC, QC8) GEMM", 5.236, "delegate"),
        ("Convolution (NHWC, QC8) DWConv", 4.46, "delegate"),
        ("TFLite_Detection_PostProcess", 3.653, "cpu"),
    ]
    assert top[0]["share"] == 1.0 and top[2]["share"] == pytest.approx(3.653 / 5.236)


def test_output_without_op_profiling_has_no_profile():
    for name in ("xnnpack_partial.txt", "riscv_unprefixed_scientific.txt", "prepare_failure.txt"):
        assert parse_op_profile((OUTPUTS / name).read_text()) is None, name
