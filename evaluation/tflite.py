"""TFLite model intake: describe a .tflite from its bytes and check it against a track's contract.

- `inspect_model(data, …) -> ModelInfo` opens the bytes only in the sandbox (`common.sandbox`) and
  returns a plain dataclass: inputs and outputs (name, shape, dtype, quantisation scale and zero point),
  operators and their counts, size, and the kind of model (float32, float16, dynamic-range, full-integer).
  A file LiteRT cannot read, that crashes it, that asks for more tensor memory than allowed, or that uses
  an operator LiteRT lacks raises `ModelRejected` with a message a participant understands.
- `Contract` is what a track expects (filled by `challenges` from its track fields, or from a dict with
  `Contract.from_dict`); `validate_against_contract(info, contract)` returns a list of messages, empty
  when the model fits.

Plain Python, no Django and no database.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

from .runners.base import ModelError

TFLITE_IDENTIFIER = b"TFL3"
DEFAULT_MAX_TENSOR_BYTES = 2 * 2**30
CONVERSION_GUIDE = "https://ai.google.dev/edge/litert/models/convert"
# Python + numpy + LiteRT + XNNPACK's arenas reserve ~1.2 GB of address space before any model: the
# sandbox's address-space cap is this plus the memory a model may use.
LITERT_ADDRESS_SPACE_MB = 1536
INTEGER_DTYPES = {"int8", "uint8", "int16", "int32", "int64", "bool", "uint16", "uint32", "uint64"}


class ModelRejected(ModelError):
    """The file is not a model LiteRT can run here; `message` says why, for the participant."""


@dataclass
class TensorInfo:
    index: int
    name: str
    shape: list[int]
    shape_signature: list[int]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    @property
    def is_dynamic(self) -> bool:
        return any(d < 0 for d in self.shape_signature)

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0

    def describe(self) -> str:
        dims = self.shape_signature if self.is_dynamic else self.shape
        return f"{self.dtype} {format_shape(dims)}"

    def real_range(self) -> tuple[float, float] | None:
        """The real values a quantised integer tensor can carry: scale × (q − zero point)."""
        if not self.quantized or self.dtype not in ("int8", "uint8", "int16"):
            return None
        low, high = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}[self.dtype]
        return (self.scale * (low - self.zero_point), self.scale * (high - self.zero_point))


@dataclass
class ModelInfo:
    size_bytes: int
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    operators: dict[str, int]
    tensor_dtypes: list[str]
    tensor_bytes: int = 0
    # The shape each input ran at during intake (None: a free dimension nobody gave a size for).
    input_shapes_run: list[list[int] | None] = field(default_factory=list)
    # Inputs whose shape could not be settled: {"position", "problem": "rank" | "fixed" | "missing"}.
    shape_problems: list[dict] = field(default_factory=list)
    # Tensor memory alive at once at its peak (tensor lifetimes at the shapes that ran), in bytes.
    peak_bytes: int = 0
    # One invoke() on generated inputs succeeded at intake (skipped for models too large for it).
    invoked: bool = False

    @property
    def kind(self) -> str:
        """ "full-integer", "float16", "dynamic-range" (integer weights, float activations), "float32"."""
        dtypes = set(self.tensor_dtypes)
        if "float16" in dtypes:
            return "float16"
        if not dtypes & {"float32", "float64"}:
            return "full-integer"
        if dtypes & {"int8", "uint8"}:
            return "dynamic-range"
        return "float32"

    @property
    def is_full_integer(self) -> bool:
        return self.kind == "full-integer"

    @property
    def has_dynamic_inputs(self) -> bool:
        return any(t.is_dynamic for t in self.inputs)

    @property
    def operator_count(self) -> int:
        return sum(self.operators.values())

    def as_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = self.kind
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelInfo:
        return cls(
            size_bytes=data["size_bytes"],
            inputs=[TensorInfo(**t) for t in data["inputs"]],
            outputs=[TensorInfo(**t) for t in data["outputs"]],
            operators=dict(data["operators"]),
            tensor_dtypes=list(data.get("tensor_dtypes", [])),
            tensor_bytes=data.get("tensor_bytes", 0),
            input_shapes_run=list(data.get("input_shapes_run") or []),
            shape_problems=list(data.get("shape_problems") or []),
            peak_bytes=data.get("peak_bytes", 0),
            invoked=bool(data.get("invoked", False)),
        )

    def shapes_display(self) -> str:
        """ "1×224×224×3" (one input), or the shapes of every input joined by " and "."""
        return " and ".join(format_shape(s) for s in self.input_shapes_run if s) or ""


@dataclass
class TensorSpec:
    """One input or output a track expects. `None` in a shape accepts any size (dynamic models)."""

    shape: list[int | None] | None = None
    dtype: str | None = None  # "float32", "uint8", "int8"; None accepts any


@dataclass
class Contract:
    """What a track expects of a model. `challenges` fills it from its track fields."""

    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    # The real values the track feeds in, e.g. (0, 255) for MAI's image tracks.
    input_range: tuple[float, float] | None = None
    int8_required: bool = False
    allow_dynamic: bool = True
    max_size_bytes: int | None = None
    guide_url: str = CONVERSION_GUIDE

    @classmethod
    def from_dict(cls, data: dict | None) -> Contract:
        data = dict(data or {})

        def specs(items):
            return [
                TensorSpec(
                    shape=list(s["shape"]) if s.get("shape") is not None else None, dtype=s.get("dtype")
                )
                for s in items or []
            ]

        rng = data.get("input_range")
        return cls(
            inputs=specs(data.get("inputs")),
            outputs=specs(data.get("outputs")),
            input_range=tuple(rng) if rng else None,
            int8_required=bool(data.get("int8_required")),
            allow_dynamic=data.get("allow_dynamic", True),
            max_size_bytes=data.get("max_size_bytes"),
            guide_url=data.get("guide_url") or CONVERSION_GUIDE,
        )

    def as_dict(self) -> dict:
        return asdict(self)


def format_shape(shape) -> str:
    return "×".join("?" if d is None or d < 0 else str(d) for d in shape) if shape else "scalar"


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


SHAPE_SEPARATORS = re.compile(r"\s*[x×X*,]\s*")


class ShapeError(ValueError):
    """A typed shape that is not a shape; `message` says what a valid one looks like."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_shape(text: str) -> list[int]:
    """ "1x480x720x3", "1×480×720×3", "[1, 480, 720, 3]" → [1, 480, 720, 3]; raises `ShapeError`."""
    cleaned = (text or "").strip().strip("[]()").strip()
    example = "Write it as dimensions separated by “x”, for example 1x480x720x3."
    if not cleaned:
        raise ShapeError(f"The input shape is empty. {example}")
    parts = SHAPE_SEPARATORS.split(cleaned)
    if not all(p.isdecimal() for p in parts):
        raise ShapeError(f"“{text.strip()[:60]}” is not a shape. {example}")
    dims = [int(p) for p in parts]
    if len(dims) > 8:
        raise ShapeError(f"“{text.strip()[:60]}” has {len(dims)} dimensions; a model input has at most 8.")
    if any(d < 1 for d in dims):
        raise ShapeError(f"Every dimension must be at least 1 (got {format_shape(dims)}).")
    if any(d > 1_000_000 for d in dims):
        raise ShapeError(f"{format_shape(dims)} has a dimension over 1,000,000.")
    return dims


def parse_shapes(text: str) -> dict[int, list[int]]:
    """One shape per input, separated by “;” ("1x480x720x3; 1x10") → {0: [...], 1: [...]}."""
    return {i: parse_shape(part) for i, part in enumerate(p for p in (text or "").split(";") if p.strip())}


def contract_shape_hints(contract: Contract | dict | None) -> dict[int, list[int | None]]:
    """The track's input shapes, used to size the dynamic dimensions of a model (None: free)."""
    if contract is None:
        return {}
    if isinstance(contract, dict):
        contract = Contract.from_dict(contract)
    return {i: list(spec.shape) for i, spec in enumerate(contract.inputs) if spec.shape}


def inspect_model(
    data: bytes,
    *,
    input_shapes: dict[int, list[int]] | None = None,
    shape_hints: dict[int, list[int | None]] | None = None,
    accelerator: str = "xnnpack",
    input_range: tuple[float, float] | list[float] | None = None,
    max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES,
    time_limit_s: float = 30,
    memory_limit_mb: int = 3072,
) -> ModelInfo:
    """Reads a .tflite in the sandbox; raises `ModelRejected` with the participant's message.

    Inputs run at `input_shapes` (shapes someone typed: they must agree with every declared
    dimension), else at their declared dimensions with a dynamic batch at 1 and other dynamic
    dimensions from `shape_hints` (the track's shape). An input whose size nobody gave is listed in
    `info.shape_problems` and nothing is allocated (see `shape_messages`). `accelerator` is the one the
    job that follows uses ("cpu": LiteRT's built-in kernels; anything else: XNNPACK, LiteRT's default,
    as the fidelity run too)."""
    if len(data) < 8:
        raise ModelRejected("The file is empty or far too small to be a TensorFlow Lite model.")
    if data[4:8] != TFLITE_IDENTIFIER:
        raise ModelRejected(
            "This is not a TensorFlow Lite model: a .tflite file starts with the "
            "FlatBuffer identifier “TFL3”. Convert your model with the TFLiteConverter "
            f"(see {CONVERSION_GUIDE})."
        )
    with tempfile.NamedTemporaryFile(suffix=".tflite") as fh:
        fh.write(data)
        fh.flush()
        return inspect_model_file(
            Path(fh.name),
            input_shapes=input_shapes,
            shape_hints=shape_hints,
            accelerator=accelerator,
            input_range=input_range,
            max_tensor_bytes=max_tensor_bytes,
            time_limit_s=time_limit_s,
            memory_limit_mb=memory_limit_mb,
        )


def inspect_model_file(
    path: Path,
    *,
    input_shapes: dict[int, list[int]] | None = None,
    shape_hints: dict[int, list[int | None]] | None = None,
    accelerator: str = "xnnpack",
    input_range: tuple[float, float] | list[float] | None = None,
    max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES,
    time_limit_s: float = 30,
    memory_limit_mb: int = 3072,
) -> ModelInfo:
    request = {
        "model_path": str(path),
        "max_tensor_bytes": max_tensor_bytes,
        "input_shapes": {str(k): [int(d) for d in v] for k, v in (input_shapes or {}).items()},
        "shape_hints": {
            str(k): [None if d is None else int(d) for d in v] for k, v in (shape_hints or {}).items()
        },
        "accelerator": "cpu" if accelerator == "cpu" else "xnnpack",
        "input_range": list(input_range) if input_range else None,
        "invoke_max_bytes": INTAKE_INVOKE_MAX_BYTES,
    }
    try:
        result, log = run_sandboxed(
            "evaluation._sandbox_child:inspect",
            request,
            time_limit_s=time_limit_s,
            memory_limit_mb=LITERT_ADDRESS_SPACE_MB + memory_limit_mb,
        )
    except SandboxTimeout:
        raise ModelRejected(
            f"Reading the model took longer than {time_limit_s:g} s and was stopped; the "
            "file is probably corrupt."
        ) from None
    except SandboxCrash as exc:
        stage = (
            "running it once on generated inputs"
            if "intake: invoke" in (exc.log or "")
            else "loading this model"
        )
        raise ModelRejected(
            f"LiteRT crashed while {stage} ({exc.signal_name}), as it would on the device: the file is "
            "corrupt or malformed, or uses an operator in a way LiteRT cannot run. Re-export it with "
            "the TFLiteConverter.",
            log=exc.log,
        ) from None
    except SandboxError as exc:
        raise ModelRejected(explain_load_error(exc.error_type, exc.message), log=exc.log) from None
    info = ModelInfo.from_dict(result)
    refusal = result.get("refusal")
    if refusal:
        raise ModelRejected(explain_memory_refusal(refusal, max_tensor_bytes))
    return info


# One invoke() at intake when the model's ops write at most this much (a run then costs milliseconds).
INTAKE_INVOKE_MAX_BYTES = 64 * 2**20


def shape_messages(info: ModelInfo, *, where: str = "") -> list[str]:
    """Why some input has no shape to run at, one sentence each, saying what to do. `where` names the
    place to type a shape (e.g. "in “Input shape”")."""
    messages = []
    for item in info.shape_problems:
        position = int(item["position"])
        tensor = info.inputs[position]
        dims = format_shape(tensor.shape_signature)
        typed = info.input_shapes_run[position] if position < len(info.input_shapes_run) else None
        if item["problem"] == "missing":
            messages.append(
                f"Input {position} is {tensor.dtype} {dims}: its free dimensions need a size. Give the "
                f"shape to measure it at{(' ' + where) if where else ''}, for example "
                f"{example_shape(tensor.shape_signature)}."
            )
        elif item["problem"] == "rank":
            messages.append(
                f"Input {position} has {len(tensor.shape_signature)} dimensions ({dims}); the shape "
                f"given for it has a different number{(' ' + typed_shape(typed)) if typed else ''}."
            )
        else:
            messages.append(
                f"Input {position} is fixed at {dims}; the shape given for it does not match. Only the "
                f"free dimensions (“?”) can be chosen, for example {example_shape(tensor.shape_signature)}."
            )
    return messages


def typed_shape(shape) -> str:
    return f"({format_shape(shape)})"


def example_shape(signature: list[int]) -> str:
    defaults = {1: 480, 2: 720}
    dims = []
    for axis, d in enumerate(signature):
        if d >= 0:
            dims.append(d)
        elif axis == 0:
            dims.append(1)
        else:
            dims.append(defaults.get(axis, 8))
    return "x".join(str(d) for d in dims)


def explain_memory_refusal(refusal: dict, limit: int) -> str:
    need = format_bytes(refusal["bytes"])
    if refusal.get("position") is not None:
        return (
            f"Input {refusal['position']} is {refusal['dtype']} {format_shape(refusal['shape'])}, which "
            f"needs {need} of memory for that tensor alone; a device here allows at most "
            f"{format_bytes(limit)} of tensors. Check the input shape of your model."
        )
    at = f" at input shape {format_shape(refusal['shape'])}" if refusal.get("shape") else ""
    return (
        f"The model needs {need} of tensor memory at its peak{at} (the tensors alive at the same time "
        f"plus its weights); a device here allows at most {format_bytes(limit)}. Use a smaller input "
        "or fewer channels in the largest layers."
    )


def explain_load_error(error_type: str, detail: str) -> str:
    """Turns LiteRT's error text into a sentence for the participant (keeping LiteRT's own words)."""
    text = (detail or "").strip()
    custom = re.search(r"unresolved custom op:?\s*([\w-]+(?:\.[\w-]+)*)", text, re.I)
    if custom:
        return (
            f"The model uses the operator “{custom.group(1)}”, which LiteRT does not provide. Use "
            "only TFLite built-in operators (converter.target_spec.supported_ops = "
            "[tf.lite.OpsSet.TFLITE_BUILTINS]) or replace that layer."
        )
    builtin = re.search(r"Didn't find op for builtin opcode '([\w]+)' version '(\d+)'", text)
    if builtin or "Op builtin_code out of range" in text:
        op = f"“{builtin.group(1)}” (version {builtin.group(2)})" if builtin else "an operator"
        return (
            f"The model uses {op} that this LiteRT version does not support. Convert with a "
            "TensorFlow version that matches LiteRT, or avoid that operator."
        )
    prepare = re.match(r"cannot prepare at input shape ([\d× and]+): (.*)", text, re.S)
    if prepare:
        first = prepare.group(2).strip().splitlines()[0] if prepare.group(2).strip() else error_type
        return (
            f"LiteRT cannot prepare this model at input shape {prepare.group(1)}: {first[:300]}. Its "
            "layers do not fit that shape; check the input shape (free dimensions run at the shape "
            "given, or at the track's)."
        )
    if text.startswith("invoke() failed"):
        return (
            f"LiteRT loads this model but fails to run it on generated inputs: {text[16:316].strip(': ')}. "
            "The device would fail the same way; re-export it with the TFLiteConverter."
        )
    if error_type == "UnicodeDecodeError":
        return "The model's tensor names are not valid text: the file is corrupt. Re-export it."
    if "memory" in error_type.lower() or "failed to reshape" in text.lower():
        return (
            "The model does not fit in the memory a device allows while its tensors are allocated. "
            "Check its input shape."
        )
    first = text.splitlines()[0] if text else error_type
    return (
        f"LiteRT cannot load this model: {first[:300]}. The file may be truncated or corrupt; "
        "re-export it with the TFLiteConverter."
    )


def validate_against_contract(info: ModelInfo, contract: Contract | dict | None) -> list[str]:
    """Every way the model breaks the track's contract, one message each (empty list: it fits)."""
    if contract is None:
        return []
    if isinstance(contract, dict):
        contract = Contract.from_dict(contract)
    guide = f"see the conversion guide ({contract.guide_url})"
    messages: list[str] = []
    messages += _check_tensors("input", info.inputs, contract.inputs, guide, contract.allow_dynamic)
    messages += _check_tensors("output", info.outputs, contract.outputs, guide, contract.allow_dynamic)
    if contract.int8_required and not info.is_full_integer:
        messages.append(
            f"This track requires a full-integer INT8 model; yours is {info.kind}. Quantise it "
            "with a representative dataset, TFLITE_BUILTINS_INT8 and uint8 input and output; "
            f"{guide}."
        )
    if contract.input_range is not None:
        low, high = contract.input_range
        for position, tensor in enumerate(info.inputs):
            real = tensor.real_range()
            if real is None:
                continue
            span = max(high - low, 1e-9)
            if real[0] > low + 0.05 * span or real[1] < high - 0.05 * span:
                messages.append(
                    f"Input {position} is quantised with scale {tensor.scale:g} and zero point "
                    f"{tensor.zero_point}, so it only covers values {real[0]:g} to {real[1]:g}; this track "
                    f"feeds values from {low:g} to {high:g}. Use a representative dataset in that range; "
                    f"{guide}."
                )
    if contract.max_size_bytes and info.size_bytes > contract.max_size_bytes:
        messages.append(
            f"The model is {format_bytes(info.size_bytes)}; this track accepts at most "
            f"{format_bytes(contract.max_size_bytes)}."
        )
    return messages


def _check_tensors(
    role: str, actual: list[TensorInfo], expected: list[TensorSpec], guide: str, allow_dynamic: bool
) -> list[str]:
    if not expected:
        return []
    messages = []
    if len(actual) != len(expected):
        messages.append(f"The model has {len(actual)} {role}(s); this track expects {len(expected)}.")
    for position, (tensor, spec) in enumerate(zip(actual, expected, strict=False)):
        dims = tensor.shape_signature if tensor.is_dynamic else tensor.shape
        shape_ok = spec.shape is None or (
            len(dims) == len(spec.shape)
            and all(
                e is None or d == e or (d < 0 and allow_dynamic)
                for d, e in zip(dims, spec.shape, strict=False)
            )
        )
        dtype_ok = spec.dtype is None or tensor.dtype == spec.dtype
        fix = how_to_fix_shape(role, dims, spec.shape) if not shape_ok else ""
        if not (shape_ok and dtype_ok):
            want = f"{spec.dtype or tensor.dtype} {format_shape(spec.shape) if spec.shape else format_shape(dims)}"
            messages.append(
                f"{role.capitalize()} {position} is {tensor.describe()}; this track expects {want}"
                f"{('. ' + fix + ';') if fix else ','} {guide}."
            )
        elif tensor.is_dynamic and not allow_dynamic:
            messages.append(
                f"{role.capitalize()} {position} has a dynamic shape ({format_shape(dims)}); this "
                f"track needs fixed dimensions. {how_to_fix_shape(role, dims, None)}; {guide}."
            )
    return messages


def how_to_fix_shape(role: str, dims: list[int], wanted: list[int | None] | None) -> str:
    """The conversion step that gives a model the track's input shape (a sentence without its end)."""
    if role != "input":
        return ""
    target = [
        (w if w is not None else (d if d >= 0 else 1)) for d, w in zip(dims, wanted or dims, strict=False)
    ]
    if wanted is None or len(wanted) != len(dims):
        target = [d if d >= 0 else (1 if i == 0 else d) for i, d in enumerate(dims)]
    if any(d is None or d < 0 for d in target):
        return (
            "Convert it with a fixed input shape: keras.Input(shape=(H, W, C), batch_size=1), or a "
            "converter whose input_signature is [1, H, W, C]"
        )
    tail = ", ".join(str(d) for d in target[1:])
    full = ", ".join(str(d) for d in target)
    batch_only = (
        len(dims) == len(target)
        and dims
        and dims[0] < 0
        and all(d == t for d, t in zip(dims[1:], target[1:], strict=True))
    )
    start = "Export it with batch size 1" if batch_only else f"Export it with input shape [{full}]"
    return (
        f"{start}: keras.Input(shape=({tail}{',' if len(target) == 2 else ''}), batch_size=1) before "
        f"converting, or model.export(path, input_signature=[tf.TensorSpec([{full}], tf.float32)]) then "
        "tf.lite.TFLiteConverter.from_saved_model(path)"
    )


def element_count(shape) -> int:
    return math.prod(max(int(d), 1) for d in shape)
