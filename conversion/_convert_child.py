"""The code that runs inside the sandbox (`common.sandbox`) on an uploaded, untrusted model: it loads the
model with the converter its format needs, converts it to TFLite and runs the original and the converted
model side by side on the same samples, so the parent can tell what conversion cost in fidelity.

Called as `run_sandboxed("conversion._convert_child:convert", request, …)`; imports only the standard
library, numpy, TensorFlow/Keras and LiteRT (PyTorch exported programs go to `_torch_child`, which
imports torch and litert-torch): no Django, no database, no network. Keras models load with `safe_mode=True`: a Lambda layer (Python code in
the file) is refused. A refusal the user can act on is raised as `ConversionRefused`, whose text the
parent shows as is; anything else the converter raises is reported with its first line.

request = {
  "source_path", "source_format": "keras" | "savedmodel" | "pt2" | "onnx", "work_dir",
  "input_shape": [1, H, W, C], "expected_output_shape": [...] or None, "input_range": [low, high],
  "output_kind": "float32" | "float16" | "dynamic_range" | "int8", "dynamic_copy": bool,
  "calibration_path": an .npy stack of samples (N, H, W, C) in the input range, or None,
  "fidelity_samples": n, "max_calibration_samples": n,
}
→ {"model_path", "dynamic_path" or None, "outputs_path" (npz: original_i / converted_i), "samples",
   "calibration_samples", "original_output_shape", "seconds": {...}}
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

PT2_HOW_TO = (
    "Export the model as a PyTorch exported program instead: "
    "ep = torch.export.export(model, (torch.randn(1, 3, H, W),)); torch.export.save(ep, 'model.pt2')."
)


class ConversionRefused(Exception):
    """The model cannot be converted as asked; the text says why and what to do."""


def _fmt(shape) -> str:
    return "×".join("?" if d is None or (isinstance(d, int) and d < 0) else str(d) for d in shape)


# --- Loading ----------------------------------------------------------------------------------------


def _load_keras(path: str):
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        text = str(exc)
        if "Lambda" in text or "safe_mode" in text or "arbitrary code" in text:
            raise ConversionRefused(
                "The model contains a Lambda layer (Python code stored in the file), which this site "
                "never runs: Keras loads uploads in safe mode. Replace the Lambda by built-in layers "
                "(or keras.ops inside a registered layer you re-create as built-in layers) and save again."
            ) from None
        if "Could not locate class" in text or "custom_objects" in text:
            name = text.split("'")[1] if "'" in text else "a custom class"
            raise ConversionRefused(
                f"The model uses a custom layer or object ({name}) that Keras cannot rebuild without its "
                "Python code, which this site never runs. Use built-in Keras layers, or export a "
                "SavedModel (model.export(path)) and upload it as a zip."
            ) from None
        raise


def _extract_savedmodel(path: str, work_dir: Path) -> Path:
    target = work_dir / "savedmodel"
    target.mkdir()
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ConversionRefused(
            "A SavedModel is uploaded as a zip of its folder (saved_model.pb and variables/); this file "
            "is not a zip."
        ) from None
    with archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > 8 * 2**30:
            raise ConversionRefused("The SavedModel zip expands to more than 8 GB.")
        for member in members:
            name = member.filename
            if name.startswith("/") or ".." in Path(name).parts:
                raise ConversionRefused(f"The zip holds a path outside its folder ({name[:80]}).")
        archive.extractall(target)
    found = sorted(target.rglob("saved_model.pb"), key=lambda p: len(p.parts))
    if not found:
        raise ConversionRefused(
            "The zip holds no saved_model.pb: zip the folder that model.export(path) or "
            "tf.saved_model.save wrote."
        )
    return found[0].parent


def _serving_function(request: dict, work_dir: Path, shape):
    """(a tf.function of one input → one output at `shape`, the object that keeps its variables)."""
    import tensorflow as tf

    fmt = request["source_format"]
    spec = tf.TensorSpec(shape, tf.float32, name="input")
    if fmt == "keras":
        model = _load_keras(request["source_path"])
        if len(model.inputs) != 1:
            raise ConversionRefused(f"The model has {len(model.inputs)} inputs; conversion here takes one.")

        @tf.function(input_signature=[spec])
        def serve(x):
            out = model(x, training=False)
            return out[0] if isinstance(out, list | tuple) else out

        return serve, model
    if fmt == "savedmodel":
        folder = _extract_savedmodel(request["source_path"], work_dir)
        loaded = tf.saved_model.load(str(folder))
        signature = loaded.signatures.get("serving_default")
        if signature is None:
            raise ConversionRefused("The SavedModel has no “serving_default” signature.")
        names = list(signature.structured_input_signature[1])
        if len(names) != 1:
            raise ConversionRefused(
                f"The SavedModel's signature has {len(names)} inputs; conversion here takes one."
            )

        @tf.function(input_signature=[spec])
        def serve(x):
            out = signature(**{names[0]: x})
            return out[sorted(out)[0]]

        return serve, loaded
    raise ConversionRefused(f"Models in the “{fmt}” format are not converted on this site.")


# --- Conversion ---------------------------------------------------------------------------------------


def _converter(serve, owner, shape, request: dict, samples, seconds: dict | None = None):
    import numpy as np
    import tensorflow as tf

    # Through a SavedModel at the wanted shape: the converter freezes the variables there, which
    # calibration (INT8) needs; a concrete function of a live Keras model would leave them unread.
    folder = Path(request["work_dir"]) / f"export-{'x'.join(str(d) for d in shape).replace('None', 'n')}"
    spec = tf.TensorSpec(shape, tf.float32, name="input")
    mark = time.monotonic()
    try:
        if request["source_format"] == "keras":  # Keras tracks its own variables (ExportArchive)
            owner.export(str(folder), format="tf_saved_model", input_signature=[spec], verbose=False)
        else:
            module = tf.Module()
            module.owner = owner
            module.serve = tf.function(serve.python_function, input_signature=[spec])
            signatures = {"serving_default": module.serve.get_concrete_function()}
            tf.saved_model.save(module, str(folder), signatures=signatures)
    except ConversionRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - tracing user models fails in many ways; the text says how
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(
            f"TensorFlow cannot trace the model at input {_fmt(shape)}: {first.strip()[:300]}"
        ) from None
    if seconds is not None:
        seconds["export"] = seconds.get("export", 0.0) + time.monotonic() - mark
    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    kind = request["output_kind"]
    if kind == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif kind == "dynamic_range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif kind == "int8":
        calibration = samples[: int(request.get("max_calibration_samples") or 100)]

        def representative():
            for sample in calibration:
                yield [np.asarray(sample, dtype=np.float32)[None]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    return converter


def _convert(converter) -> bytes:
    try:
        return bytes(converter.convert())
    except Exception as exc:  # noqa: BLE001 - the converter raises many types; its text is the reason
        text = str(exc)
        missing = sorted(set(_unsupported_ops(text)))
        if missing or "not supported by" in text or "Select TF ops" in text:
            names = ", ".join(missing) or "some operators"
            raise ConversionRefused(
                f"The model uses operators that TFLite has no built-in kernel for ({names}). Devices run "
                "built-in operators only: replace those layers (custom or TensorFlow-only ops) and convert "
                "again."
            ) from None
        first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
        raise ConversionRefused(f"TensorFlow's converter failed: {first[:400]}") from None


def _unsupported_ops(text: str) -> list[str]:
    import re

    ops = re.findall(r"'(tf\.[A-Za-z0-9_]+)'", text) + re.findall(r"\b(tf\.[A-Z][A-Za-z0-9_]+)\b", text)
    return [op for op in ops if op not in ("tf.lite", "tf.function")]


# --- Running both models --------------------------------------------------------------------------------


def _run_tflite(content: bytes, samples, out_index: int = 0):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=content, num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[out_index]
    results = []
    for sample in samples:
        x = np.asarray(sample, dtype=np.float32)[None]
        scale, zero = inp["quantization"]
        if inp["dtype"] in (np.uint8, np.int8) and scale:
            info = np.iinfo(inp["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max)
        interp.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interp.invoke()
        y = interp.get_tensor(out["index"]).astype(np.float32)
        o_scale, o_zero = out["quantization"]
        if out["dtype"] in (np.uint8, np.int8) and o_scale:
            y = (y - o_zero) * o_scale
        results.append(y[0])
    return results


def convert(request: dict) -> dict:
    import numpy as np

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    work_dir = Path(request["work_dir"])
    shape = [int(d) for d in request["input_shape"]]
    seconds = {}
    started = time.monotonic()
    samples = []
    if request.get("calibration_path"):
        samples = list(np.load(request["calibration_path"], allow_pickle=False))
    elif request["output_kind"] == "int8":
        raise ConversionRefused("Full-integer INT8 needs representative data: pick the track.")
    fidelity_n = int(request.get("fidelity_samples") or 0)
    if not samples and fidelity_n:
        low, high = request.get("input_range") or [0.0, 255.0]
        rng = np.random.default_rng(0)
        samples = [rng.uniform(low, high, shape[1:]).astype(np.float32) for _ in range(fidelity_n)]
    if request["source_format"] == "pt2":
        from conversion import _torch_child  # torch is imported here, in the sandboxed child only

        return _torch_child.convert_pt2(request, samples, seconds, started, _run_tflite, _peak_mb)
    serve, owner = _serving_function(request, work_dir, shape)
    seconds["load"] = time.monotonic() - started

    concrete = serve.get_concrete_function()
    out_shape = [d if d is not None else -1 for d in concrete.outputs[0].shape.as_list()]
    expected = request.get("expected_output_shape")
    if expected and (
        len(out_shape) != len(expected)
        or any(e is not None and d != e for d, e in zip(out_shape, expected, strict=False))
    ):
        raise ConversionRefused(
            f"At input {_fmt(shape)} the output is {_fmt(out_shape)}, the track expects {_fmt(expected)}. "
            "Change the model (its up-scaling factor, channels or crop) so that it produces the track's "
            "output shape."
        )

    mark = time.monotonic()
    content = _convert(_converter(serve, owner, shape, request, samples, seconds))
    seconds["convert"] = time.monotonic() - mark
    model_path = work_dir / "model.tflite"
    model_path.write_bytes(content)

    dynamic_path = None
    if request.get("dynamic_copy"):
        mark = time.monotonic()
        free = [shape[0]] + [None] * (len(shape) - 2) + [shape[-1]] if len(shape) == 4 else shape
        try:
            dynamic = _convert(_converter(serve, owner, free, request, samples))
        except ConversionRefused as exc:
            raise ConversionRefused(
                f"The model converts at {_fmt(shape)}, but its copy with dynamic input size "
                f"({_fmt(free)}) does not: {exc} Layers that compute shapes from the input (e.g. "
                "UpSampling2D with nearest interpolation) lose their channel count when height and width "
                "are free; bilinear up-sampling or Conv2DTranspose keep it."
            ) from None
        dynamic_path = work_dir / "model_dynamic.tflite"
        dynamic_path.write_bytes(dynamic)
        seconds["dynamic"] = time.monotonic() - mark

    mark = time.monotonic()
    chosen = samples[:fidelity_n]
    outputs = {}
    converted = _run_tflite(content, chosen) if chosen else []
    for i, sample in enumerate(chosen):
        original = serve(np.asarray(sample, dtype=np.float32)[None]).numpy()[0]
        outputs[f"original_{i}"] = original.astype(np.float32)
        outputs[f"converted_{i}"] = converted[i]
    outputs_path = work_dir / "outputs.npz"
    np.savez(outputs_path, **outputs)
    seconds["fidelity"] = time.monotonic() - mark
    return {
        "model_path": str(model_path),
        "dynamic_path": str(dynamic_path) if dynamic_path else None,
        "outputs_path": str(outputs_path),
        "samples": len(chosen),
        "calibration_samples": min(len(samples), int(request.get("max_calibration_samples") or 100))
        if request["output_kind"] == "int8"
        else 0,
        "original_output_shape": out_shape,
        "seconds": seconds,
        "peak_mb": _peak_mb(),
    }


def _peak_mb() -> float:
    """This process's own high-water mark of resident memory (VmHWM), in MB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
