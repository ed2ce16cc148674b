"""PyTorch exported programs (`.pt2`, written by `torch.export.save`) to TFLite, inside the sandbox:
called by `_convert_child.convert`, the only place this site imports torch and litert-torch.

Safety. `torch.export.load` is not a safe loader in torch 2.13: its own docstring says it "uses pickle
under the hood", and the archive reader unpickles with `weights_only=False` weights or constants marked
`use_pickle` (tensor subclasses), custom and opaque objects, and the sample inputs when a
`weights_only=True` load of them fails. So before it is called, `check_archive` reads the zip itself
and refuses every entry that would be unpickled that way (the configs are JSON; the sample inputs are
loaded with `weights_only=True` first, which makes torch's fallback unreachable). The graph's JSON can
carry code too: torch `exec`s its `guards_code` when the module is built, resolves node targets by
attribute lookup from `torch` (so "torch.os.system" would be called) and `sympy.sympify`s symbolic
expressions; `_check_graph` admits only size-comparison guards, operator targets and arithmetic
expressions. All of it still runs in the sandbox (no network, memory and time limits), like every
upload.

Layout. The tracks' contracts are NHWC (1×H×W×C), PyTorch models NCHW. A program exported at
1×C×H×W is wrapped with litert-torch's `to_channel_last_io` (a transpose at the input and, for a
4-d output, at the output, which the converter folds into the graph where it can), so the .tflite takes
and gives NHWC; a program already exported at 1×H×W×C is converted as it is. The original outputs for
the fidelity report come from the same wrapped module in torch, so both sides see the same NHWC
samples.

Output kinds. float32 is litert-torch's own output. float16 (weights cast to float16), dynamic-range
(int8 weights, float activations) and full-integer INT8 go through Google's ai-edge-quantizer on that
float model; INT8 is its static recipe (int8 weights per channel, int8 activations) calibrated on the
track's representative samples, which yields int8 input and output tensors; `uint8_io` then puts a
QUANTIZE op at each end (uint8 ↔ int8, same scale, zero point + 128, exactly what TensorFlow's converter
emits for `inference_input_type = tf.uint8`), so the model takes and gives uint8 as the contracts ask.
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path

from conversion._convert_child import PT2_HOW_TO, ConversionRefused, _fmt

# What an exported program's JSON may name: aten/prims/higher-order operators, Python's operators on
# sizes, math functions and torch's symbolic-size helpers; guard code only as size comparisons.
SAFE_TARGET = re.compile(
    r"(?!.*__)(?:torch\.ops\.(aten|prims|higher_order|quantized_decomposed)\.\w+(\.\w+)?"
    r"|_operator\.(getitem|add|sub|mul|truediv|floordiv|mod|neg|pow|eq|ne|lt|le|gt|ge|and_|or_|not_)"
    r"|math\.(ceil|floor|sqrt|trunc)|torch\._?sym_\w+)"
)
SAFE_GUARD = re.compile(r"L(\['\w+'\]|\[\d+\])+\.size\(\)\[\d+\] *(==|!=|<=|>=|<|>) *-?\d+")
UNSAFE_EXPRESSION = re.compile(r"__|\.[A-Za-z_]|['\"\[\]\\;:{}@]|lambda")
FLOAT16_RECIPE = [
    {
        "regex": ".*",
        "operation": "*",
        "algorithm_key": "float_casting",
        "op_config": {
            "weight_tensor_config": {"num_bits": 16, "dtype": "FLOAT"},
            "compute_precision": "FLOAT",
            "explicit_dequantize": True,
        },
    }
]
PICKLED = (
    "This .pt2 archive holds pickled Python objects ({what}), which torch.export.load would unpickle; this "
    "site never runs pickled code. Plain modules exported with torch.export.export(model, (example,)) and "
    "saved with torch.export.save store tensors without pickle: export the model that way. "
)


# --- The archive -----------------------------------------------------------------------------------------


def check_archive(path: str) -> None:
    """Refuses a .pt2 that torch.export.load would unpickle anything from (see the module's docstring)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ConversionRefused("This .pt2 file is not a zip archive. " + PT2_HOW_TO) from None
    with archive:
        names = archive.namelist()
        models = [n for n in names if "/models/" in f"/{n}" and n.endswith(".json")]
        if not models:
            raise ConversionRefused(
                "This .pt2 archive holds no exported program (models/*.json). " + PT2_HOW_TO
            )
        for name in names:
            parts = name.split("/")
            if name.endswith(".pt") and ("weights" in parts or "constants" in parts):
                raise ConversionRefused(PICKLED.format(what=f"the legacy pickled file {name}") + PT2_HOW_TO)
            if name.endswith(("_weights_config.json", "_constants_config.json")):
                try:
                    config = json.loads(archive.read(name)).get("config", {})
                except (ValueError, AttributeError):
                    raise ConversionRefused(f"The .pt2 archive's {name} is not valid JSON.") from None
                for fqn, meta in (config or {}).items():
                    path_name = str((meta or {}).get("path_name", ""))
                    if (meta or {}).get("use_pickle") or path_name.startswith(("custom_obj", "opaque_obj")):
                        raise ConversionRefused(PICKLED.format(what=f"{fqn[:80]}") + PT2_HOW_TO)
        for name in models:
            _check_graph(name, archive.read(name))
        samples = [n for n in names if "/sample_inputs/" in f"/{n}" and n.endswith(".pt")]
        if samples:
            _check_sample_inputs(archive.read(samples[0]))


def _check_graph(name: str, data: bytes) -> None:
    """Refuses a program whose JSON would make torch run code of the file's choosing: guard code (torch
    `exec`s it when the module is built), node targets outside torch's operator namespaces (a target is
    resolved by attribute lookup from `torch`, so "torch.os.system" would be called), and symbolic
    expressions that are more than arithmetic (sympy.sympify evaluates them)."""
    try:
        program = json.loads(data)
    except ValueError:
        raise ConversionRefused(f"The .pt2 archive's {name} is not valid JSON. " + PT2_HOW_TO) from None
    if not isinstance(program, dict):
        raise ConversionRefused(f"The .pt2 archive's {name} is not an exported program. " + PT2_HOW_TO)
    guards = [g for g in program.get("guards_code") or [] if not SAFE_GUARD.fullmatch(str(g))]
    if guards:
        raise ConversionRefused(
            f"This .pt2 carries guard code that PyTorch would run as Python ({str(guards[0])[:80]}); this site "
            "never runs code from an upload. " + PT2_HOW_TO
        )
    for key, value in _strings(program):
        if key == "target" and not SAFE_TARGET.fullmatch(value):
            raise ConversionRefused(
                f"The exported program calls {value[:80]}, which is not a PyTorch operator; this site never runs "
                "code from an upload. " + PT2_HOW_TO
            )
        if key in ("expr_str", "range_constraint") and UNSAFE_EXPRESSION.search(value):
            raise ConversionRefused(
                f"The exported program holds a shape expression that is not arithmetic ({value[:80]}). "
                + PT2_HOW_TO
            )


def _strings(node, key: str = ""):
    """(key, string) for every string value in a JSON tree, and the keys of range_constraints."""
    if isinstance(node, dict):
        for k, v in node.items():
            if key == "range_constraints":
                yield "range_constraint", str(k)
            yield from _strings(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str):
        yield key, node


def _check_sample_inputs(data: bytes) -> None:
    import io

    import torch

    if not data:
        return
    try:
        torch.load(io.BytesIO(data), weights_only=True)
    except Exception:  # noqa: BLE001 - any refusal of the safe loader means torch would fall back to pickle
        raise ConversionRefused(
            PICKLED.format(what="sample inputs that only a full unpickling can read") + PT2_HOW_TO
        ) from None


# --- Loading and layout ------------------------------------------------------------------------------------


def _load(path: str):
    import torch

    check_archive(path)
    try:
        program = torch.export.load(path)
    except Exception as exc:  # noqa: BLE001 - a broken archive fails in many ways; the first line says how
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(
            f"torch.export.load cannot read this .pt2 ({first.strip()[:300]}). " + PT2_HOW_TO
        ) from None
    users = list(program.graph_signature.user_inputs)
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    shapes = []
    for name in users:
        value = placeholders[name].meta.get("val")
        shapes.append([d if isinstance(d, int) else None for d in getattr(value, "shape", [])])
    if len(shapes) != 1:
        raise ConversionRefused(
            f"The exported program takes {len(shapes)} inputs; conversion here takes one."
        )
    return program, shapes[0]


def _fits(exported: list, wanted: list[int]) -> bool:
    return len(exported) == len(wanted) and all(
        e is None or e == w for e, w in zip(exported, wanted, strict=True)
    )


def _channel_last_module(program, exported_shape: list, nhwc: list[int]):
    """(the module taking NHWC input, "nchw" or "nhwc"): wraps an NCHW program with transposes."""
    import litert_torch
    import torch

    module = program.module()
    if len(nhwc) == 4:
        nchw = [nhwc[0], nhwc[3], nhwc[1], nhwc[2]]
        if _fits(exported_shape, nchw):
            with torch.no_grad():
                probe = module(torch.zeros(nchw))
            probe = probe[0] if isinstance(probe, list | tuple) else probe
            outputs = [0] if getattr(probe, "ndim", 0) == 4 else []
            return litert_torch.to_channel_last_io(module, args=[0], outputs=outputs), "nchw"
    if _fits(exported_shape, nhwc):
        return module, "nhwc"
    hint = (
        f"torch.randn({nhwc[0]}, {nhwc[3]}, {nhwc[1]}, {nhwc[2]})"
        if len(nhwc) == 4
        else f"torch.randn({', '.join(map(str, nhwc))})"
    )
    raise ConversionRefused(
        f"The program was exported for input {_fmt(exported_shape)}; the track's input is {_fmt(nhwc)} "
        f"(NHWC), that is {hint} in PyTorch's NCHW layout. Export again with that example input."
    )


def _first(output):
    return output[0] if isinstance(output, list | tuple) else output


# --- INT8 with uint8 input and output ------------------------------------------------------------------------


def uint8_io(content: bytes) -> bytes:
    """The same model with uint8 input and output: a QUANTIZE op (uint8 → int8) in front of every int8
    input and one (int8 → uint8) after every int8 output, with zero point + 128 and the same scale."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    graph = model.subgraphs[0]
    quantize = schema.BuiltinOperator.QUANTIZE
    code = next(
        (
            i
            for i, oc in enumerate(model.operatorCodes)
            if max(oc.builtinCode, oc.deprecatedBuiltinCode) == quantize
        ),
        None,
    )
    if code is None:
        opcode = schema.OperatorCodeT()
        opcode.builtinCode = opcode.deprecatedBuiltinCode = quantize
        opcode.version = 2
        model.operatorCodes.append(opcode)
        code = len(model.operatorCodes) - 1

    def uint8_twin(index: int) -> int:
        tensor = graph.tensors[index]
        if tensor.type != schema.TensorType.INT8 or tensor.quantization is None:
            raise ConversionRefused(
                "The quantizer left an input or output of the model in floating point, so it cannot be given "
                "uint8 input and output; the model has operators ai-edge-quantizer cannot quantize fully."
            )
        twin = schema.TensorT()
        twin.shape = list(tensor.shape)
        twin.shapeSignature = None if tensor.shapeSignature is None else list(tensor.shapeSignature)
        twin.type = schema.TensorType.UINT8
        name = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
        twin.name = f"{name}_uint8"
        params = schema.QuantizationParametersT()
        params.scale = [float(s) for s in tensor.quantization.scale]
        params.zeroPoint = [int(z) + 128 for z in tensor.quantization.zeroPoint]
        twin.quantization = params
        model.buffers.append(schema.BufferT())
        twin.buffer = len(model.buffers) - 1
        graph.tensors.append(twin)
        return len(graph.tensors) - 1

    def quantize_op(source: int, target: int):
        op = schema.OperatorT()
        op.opcodeIndex = code
        op.inputs, op.outputs = [source], [target]
        op.builtinOptionsType = schema.BuiltinOptions.QuantizeOptions
        op.builtinOptions = schema.QuantizeOptionsT()
        return op

    renamed: dict[int, int] = {}
    for index in list(graph.inputs):
        renamed[index] = uint8_twin(index)
        graph.operators.insert(0, quantize_op(renamed[index], index))
    for index in list(graph.outputs):
        renamed[index] = uint8_twin(index)
        graph.operators.append(quantize_op(index, renamed[index]))
    graph.inputs = [renamed[i] for i in graph.inputs]
    graph.outputs = [renamed[i] for i in graph.outputs]
    for signature in model.signatureDefs or []:
        for tensor_map in list(signature.inputs or []) + list(signature.outputs or []):
            tensor_map.tensorIndex = renamed.get(tensor_map.tensorIndex, tensor_map.tensorIndex)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _quantize(content: bytes, kind: str, calibration, seconds: dict) -> bytes:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    if kind == "float32":
        return content
    mark = time.monotonic()
    q = quantizer.Quantizer(content)
    if kind == "float16":
        q.load_quantization_recipe(FLOAT16_RECIPE)
    elif kind == "dynamic_range":
        q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    else:
        q.load_quantization_recipe(recipe.static_wi8_ai8())
    try:
        if kind == "int8":
            signatures = Interpreter(model_content=content).get_signature_list()
            key = next(iter(signatures))
            input_name = signatures[key]["inputs"][0]
            data = {key: [{input_name: np.asarray(s, dtype=np.float32)[None]} for s in calibration]}
            result = q.quantize(q.calibrate(data, num_threads=1), enable_progress_report=False)
        else:
            result = q.quantize(enable_progress_report=False)
    except ConversionRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - the quantizer raises many types; its text is the reason
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(
            f"ai-edge-quantizer could not quantize the model: {first.strip()[:300]}"
        ) from None
    quantized = bytes(result.quantized_model)
    if kind == "int8":
        quantized = uint8_io(quantized)
    seconds["quantize"] = time.monotonic() - mark
    return quantized


# --- The whole conversion ------------------------------------------------------------------------------------


def convert_pt2(request: dict, samples: list, seconds: dict, started: float, run_tflite, peak_mb) -> dict:
    """The `.pt2` branch of `_convert_child.convert`: same request, same result keys."""
    import numpy as np
    import torch

    work_dir = Path(request["work_dir"])
    shape = [int(d) for d in request["input_shape"]]
    kind = request["output_kind"]
    if request.get("dynamic_copy"):
        raise ConversionRefused(
            "A dynamic-size copy is made from Keras models and SavedModels only; for a PyTorch model, "
            "convert without it."
        )
    torch.set_num_threads(1)
    program, exported_shape = _load(request["source_path"])
    module, layout = _channel_last_module(program, exported_shape, shape)
    seconds["load"] = time.monotonic() - started

    example = (
        torch.from_numpy(np.asarray(samples[0], dtype=np.float32)[None]) if samples else torch.zeros(shape)
    )
    try:
        with torch.no_grad():
            probe = _first(module(example))
    except Exception as exc:  # noqa: BLE001 - the user's graph fails in many ways; the first line says how
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(f"The program fails at input {_fmt(shape)}: {first.strip()[:300]}") from None
    out_shape = list(probe.shape)
    expected = request.get("expected_output_shape")
    if expected and (
        len(out_shape) != len(expected)
        or any(e is not None and d != e for d, e in zip(out_shape, expected, strict=False))
    ):
        raise ConversionRefused(
            f"At input {_fmt(shape)} (NHWC) the output is {_fmt(out_shape)}"
            f"{' after moving channels last' if layout == 'nchw' and len(out_shape) == 4 else ''}, the "
            f"track expects {_fmt(expected)}. Change the model (its up-scaling factor, channels or crop) so "
            "that it produces the track's output shape."
        )

    mark = time.monotonic()
    import litert_torch

    try:
        edge = litert_torch.convert(module, (example,))
        float_path = work_dir / "model_float32.tflite"
        edge.export(str(float_path))
    except Exception as exc:  # noqa: BLE001 - the converter raises many types; its text is the reason
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(f"litert-torch could not convert the model: {first.strip()[:400]}") from None
    seconds["export"] = time.monotonic() - mark
    calibration = samples[: int(request.get("max_calibration_samples") or 100)]
    content = _quantize(float_path.read_bytes(), kind, calibration, seconds)
    seconds["convert"] = time.monotonic() - mark
    model_path = work_dir / "model.tflite"
    model_path.write_bytes(content)

    mark = time.monotonic()
    fidelity_n = int(request.get("fidelity_samples") or 0)
    chosen = samples[:fidelity_n]
    converted = run_tflite(content, chosen) if chosen else []
    outputs = {}
    with torch.no_grad():
        for i, sample in enumerate(chosen):
            original = _first(module(torch.from_numpy(np.asarray(sample, dtype=np.float32)[None])))
            outputs[f"original_{i}"] = original.numpy()[0].astype(np.float32)
            outputs[f"converted_{i}"] = converted[i]
    outputs_path = work_dir / "outputs.npz"
    np.savez(outputs_path, **outputs)
    seconds["fidelity"] = time.monotonic() - mark
    return {
        "model_path": str(model_path),
        "dynamic_path": None,
        "outputs_path": str(outputs_path),
        "samples": len(chosen),
        "calibration_samples": len(calibration) if kind == "int8" else 0,
        "original_output_shape": out_shape,
        "layout": layout,
        "seconds": seconds,
        "peak_mb": peak_mb(),
    }
