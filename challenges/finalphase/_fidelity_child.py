"""Runs inside the sandbox (`common.sandbox`) for a fidelity job (see `fidelity.py`): `run(request)` opens
the untrusted .tflite with LiteRT, feeds it every hidden test input in turn (resizing a dynamic input to
the input's own shape, or to the track's fidelity shape) and saves the outputs.

Imports only the standard library, numpy and ai-edge-litert (no Django, no database). It writes its
progress ("3 10") to a file the parent polls, the outputs to an .npz, and returns a verdict dict; a
crash leaves no verdict and the parent turns the signal into the submission's failure reason.
"""

import os


def _quantize(array, detail):
    import numpy as np

    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if dtype.kind == "f":
        return array.astype(dtype)
    if scale:
        array = np.round(array / scale + zero_point)
    info = np.iinfo(dtype)
    return np.clip(array, info.min, info.max).astype(dtype)


def _dequantize(array, detail):
    import numpy as np

    scale, zero_point = detail.get("quantization", (0.0, 0))
    if array.dtype.kind != "f" and scale:
        return (array.astype(np.float64) - zero_point) * scale
    return array.astype(np.float64)


def run(request: dict) -> dict:
    import numpy as np
    from ai_edge_litert import interpreter as litert

    with open(request["model_path"], "rb") as fh:
        interp = litert.Interpreter(
            model_content=bytes(fh.read()), num_threads=int(request.get("threads", 1))
        )
    detail = interp.get_input_details()[0]
    signature = [int(d) for d in detail.get("shape_signature", detail["shape"])]
    dynamic = any(d < 0 for d in signature)
    inputs = np.load(request["inputs_path"])
    names = list(request["names"])
    outputs = {}
    progress_path = request["progress_path"]
    current_shape = None
    max_elements = int(request.get("max_input_elements", 8000 * 8000 * 4))
    for i, name in enumerate(names):
        array = np.asarray(inputs[f"i{i}"])
        if array.ndim == len(signature) - 1:
            array = array[None, ...]
        shape = list(array.shape)
        target = request.get("fidelity_shape") or None
        if dynamic:
            want = [int(t) if t else s for t, s in zip(target, shape, strict=False)] if target else shape
            if len(want) != len(signature) or any(
                s >= 0 and s != w for s, w in zip(signature, want, strict=True)
            ):
                return {
                    "ok": False,
                    "error": "shape",
                    "detail": f"test input “{name}” is {'×'.join(map(str, want))} but the model's "
                    f"input is {'×'.join('?' if s < 0 else str(s) for s in signature)}",
                }
            if int(np.prod(want)) > max_elements:
                return {"ok": False, "error": "shape", "detail": f"test input “{name}” is too large to run"}
            if want != shape:
                return {
                    "ok": False,
                    "error": "shape",
                    "detail": f"test input “{name}” is {'×'.join(map(str, shape))}, not the fidelity "
                    f"shape {'×'.join(map(str, want))}",
                }
            if want != current_shape:
                interp.resize_tensor_input(detail["index"], want, strict=False)
                interp.allocate_tensors()
                current_shape = want
                detail = interp.get_input_details()[0]
        else:
            if shape != [int(d) for d in detail["shape"]]:
                return {
                    "ok": False,
                    "error": "shape",
                    "detail": f"test input “{name}” is {'×'.join(map(str, shape))} but the model takes "
                    f"{'×'.join(str(int(d)) for d in detail['shape'])} and has no dynamic "
                    "dimensions; submit a model with dynamic input size too",
                }
            if current_shape is None:
                interp.allocate_tensors()
                current_shape = shape
        interp.set_tensor(detail["index"], _quantize(array.astype(np.float64), detail))
        interp.invoke()
        out_detail = interp.get_output_details()[0]
        out = _dequantize(interp.get_tensor(out_detail["index"]), out_detail)
        if not np.all(np.isfinite(out)):
            bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
            return {
                "ok": False,
                "error": "nan",
                "detail": f"the output for test input “{name}” has {bad} NaN or infinite value(s)",
            }
        outputs[f"o{i}"] = out.astype(np.float32)
        with open(progress_path + ".tmp", "w") as fh:
            fh.write(f"{i + 1} {len(names)}")
        os.replace(progress_path + ".tmp", progress_path)
    np.savez(request["outputs_path"], **outputs)
    return {"ok": True, "count": len(outputs)}
