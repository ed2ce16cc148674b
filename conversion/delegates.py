"""Which TFLite built-in operators each accelerator's delegate takes, from the delegates' published op
lists (TFLite GPU delegate, NNAPI delegate, XNNPACK, Hexagon), so a conversion report can name the
operators a target device would leave on its CPU. Plain data, no Django.

These are the documented lists, not a probe of a particular phone: a vendor driver may refuse more
(some NPUs take only INT8 operators), which the runtime check on the device then shows.
"""

from __future__ import annotations

_COMMON = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "FULLY_CONNECTED",
    "HARD_SWISH",
    "LOGISTIC",
    "MAX_POOL_2D",
    "MEAN",
    "MUL",
    "PAD",
    "PRELU",
    "QUANTIZE",
    "RELU",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "STRIDED_SLICE",
    "SUB",
    "TANH",
    "TRANSPOSE_CONV",
}

SUPPORTED_OPS: dict[str, set[str] | None] = {
    "cpu": None,  # LiteRT's built-in kernels: every built-in operator
    "xnnpack": _COMMON
    | {
        "ABS",
        "BATCH_MATMUL",
        "CEIL",
        "DIV",
        "ELU",
        "FLOOR",
        "GELU",
        "LEAKY_RELU",
        "MAXIMUM",
        "MINIMUM",
        "NEG",
        "RELU_N1_TO_1",
        "ROUND",
        "RSQRT",
        "SLICE",
        "SPLIT",
        "SQRT",
        "SQUARE",
        "SQUARED_DIFFERENCE",
        "TRANSPOSE",
        "RESIZE_NEAREST_NEIGHBOR",
    },
    "gpu": _COMMON
    | {
        "ABS",
        "BATCH_MATMUL",
        "CAST",
        "COS",
        "DIV",
        "ELU",
        "EXP",
        "FLOOR",
        "FLOOR_DIV",
        "FLOOR_MOD",
        "GATHER",
        "LEAKY_RELU",
        "LOG",
        "MAXIMUM",
        "MINIMUM",
        "MIRROR_PAD",
        "NEG",
        "PACK",
        "POW",
        "REDUCE_MAX",
        "REDUCE_MIN",
        "REDUCE_PROD",
        "RELU_N1_TO_1",
        "RESIZE_NEAREST_NEIGHBOR",
        "RSQRT",
        "SIN",
        "SLICE",
        "SPLIT",
        "SPLIT_V",
        "SQRT",
        "SQUARE",
        "SQUARED_DIFFERENCE",
        "SUM",
        "TILE",
        "TRANSPOSE",
    },
    "nnapi": _COMMON
    | {
        "ABS",
        "CAST",
        "DIV",
        "ELU",
        "EXP",
        "L2_NORMALIZATION",
        "LEAKY_RELU",
        "LOG",
        "MAXIMUM",
        "MINIMUM",
        "NEG",
        "RESIZE_NEAREST_NEIGHBOR",
        "RSQRT",
        "SLICE",
        "SPLIT",
        "SQRT",
        "TRANSPOSE",
    },
    "hexagon": _COMMON - {"DEQUANTIZE", "QUANTIZE"} | {"MINIMUM", "MAXIMUM", "SLICE", "SPLIT", "TRANSPOSE"},
    "npu": _COMMON | {"RESIZE_NEAREST_NEIGHBOR", "SLICE", "SPLIT", "TRANSPOSE", "MAXIMUM", "MINIMUM"},
}
# Delegates that run integer models only: a float model stays on the CPU whatever its operators.
INTEGER_ONLY = {"hexagon"}


def delegate_report(operators: dict[str, int], *, accelerator: str, kind: str) -> dict:
    """{"accelerator", "unsupported": {op: count}, "note"} for a model's operator counts."""
    supported = SUPPORTED_OPS.get(accelerator)
    if supported is None:
        return {"accelerator": accelerator, "unsupported": {}, "note": ""}
    unsupported = {op: n for op, n in sorted(operators.items()) if op not in supported}
    note = ""
    if accelerator in INTEGER_ONLY and kind != "full-integer":
        note = "This delegate runs full-integer models only: a float model stays on the CPU."
    return {"accelerator": accelerator, "unsupported": unsupported, "note": note}
