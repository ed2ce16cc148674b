"""The code that runs inside the sandboxed child process (see `evaluation.sandbox`): it opens an
untrusted .tflite with LiteRT and either describes it (`inspect`) or measures it (`benchmark`).

It is started as a script (`python -I _sandbox_child.py MODE REQUEST.json RESULT.json`) and imports only
the standard library, numpy and ai-edge-litert: no Django, no database, no network. The parent reads the
JSON it writes; a crash (SIGSEGV in LiteRT, out of memory under RLIMIT_AS) leaves no result file and the
parent turns the signal into a verdict.
"""

import json
import os
import resource
import sys
import time

DTYPE_BYTES = {
    "float32": 4,
    "float16": 2,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "bool": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "complex64": 8,
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    # VmHWM is this process image's own high-water mark. ru_maxrss is not: Linux carries it across
    # exec, so a child of a large parent (a worker with TensorFlow loaded) would report the parent's RSS.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dtype_name(dtype) -> str:
    import numpy as np

    return np.dtype(dtype).name


def _tensor(detail: dict) -> dict:
    quant = detail.get("quantization_parameters") or {}
    scales = [float(s) for s in quant.get("scales", [])][:4]
    zero_points = [int(z) for z in quant.get("zero_points", [])][:4]
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return {
        "index": int(detail["index"]),
        "name": str(detail["name"]),
        "shape": [int(d) for d in detail["shape"]],
        "shape_signature": [int(d) for d in detail.get("shape_signature", detail["shape"])],
        "dtype": _dtype_name(detail["dtype"]),
        "scale": float(scale) if scale else (scales[0] if scales else 0.0),
        "zero_point": int(zero_point) if scale else (zero_points[0] if zero_points else 0),
    }


def _nbytes(shape, dtype) -> int:
    n = DTYPE_BYTES.get(dtype, 4)
    for d in shape:
        n *= max(int(d), 1)
    return n


def _interpreter(path: str, *, threads: int = 1, accelerator: str = "cpu"):
    from ai_edge_litert import interpreter as litert

    resolver = (
        litert.OpResolverType.AUTO
        if accelerator == "xnnpack"
        else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    with open(path, "rb") as fh:
        content = fh.read()
    return litert.Interpreter(
        model_content=bytes(content), num_threads=threads, experimental_op_resolver_type=resolver
    )


def _resize(interp, input_shapes: dict) -> None:
    for position, shape in input_shapes.items():
        detail = interp.get_input_details()[int(position)]
        interp.resize_tensor_input(detail["index"], [int(d) for d in shape], strict=False)


def _check_memory(inputs: list[dict], input_shapes: dict, tensors: list[dict], limit: int) -> dict | None:
    """Refuses a model whose tensors cannot fit before allocate_tensors() tries (and takes minutes)."""
    for position, tensor in enumerate(inputs):
        shape = input_shapes.get(str(position)) or input_shapes.get(position) or tensor["shape"]
        need = _nbytes(shape, tensor["dtype"])
        if need > limit:
            return {
                "kind": "memory",
                "position": position,
                "shape": list(shape),
                "dtype": tensor["dtype"],
                "bytes": need,
                "limit": limit,
            }
    total = sum(_nbytes(t["shape"], t["dtype"]) for t in tensors)
    if total > limit:
        return {
            "kind": "memory",
            "position": None,
            "shape": None,
            "dtype": None,
            "bytes": total,
            "limit": limit,
        }
    return None


def inspect(request: dict) -> dict:
    path = request["model_path"]
    size = os.path.getsize(path)
    interp = _interpreter(path)
    inputs = [_tensor(d) for d in interp.get_input_details()]
    outputs = [_tensor(d) for d in interp.get_output_details()]
    tensors = []
    for d in interp.get_tensor_details():
        try:
            tensors.append({"shape": [int(x) for x in d["shape"]], "dtype": _dtype_name(d["dtype"])})
        except (TypeError, ValueError):
            continue
    operators: dict[str, int] = {}
    for op in interp._get_ops_details():
        name = str(op.get("op_name", "UNKNOWN"))
        operators[name] = operators.get(name, 0) + 1
    dtypes = sorted({t["dtype"] for t in tensors})
    result = {
        "size_bytes": size,
        "inputs": inputs,
        "outputs": outputs,
        "operators": operators,
        "tensor_dtypes": dtypes,
        "tensor_count": len(tensors),
        "tensor_bytes": sum(_nbytes(t["shape"], t["dtype"]) for t in tensors),
    }
    refusal = _check_memory(
        inputs, request.get("input_shapes") or {}, tensors, int(request["max_tensor_bytes"])
    )
    if refusal:
        result["refusal"] = refusal
        return result
    _resize(interp, request.get("input_shapes") or {})
    interp.allocate_tensors()
    result["allocated"] = True
    return result


def _random_input(rng, shape, dtype: str, value_range):
    import numpy as np

    if dtype.startswith("float"):
        low, high = value_range or (0.0, 255.0)
        return rng.uniform(low, high, size=shape).astype(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    info = np.iinfo(dtype)
    low, high = value_range or (info.min, info.max)
    low, high = max(int(low), info.min), min(int(high), info.max)
    return rng.integers(low, high + 1, size=shape, dtype=np.int64).astype(dtype)


def benchmark(request: dict) -> dict:
    """The TFLite benchmark tool's protocol: init (load, resize, allocate), warm-up runs (the first
    one is reported as the first inference), then timed runs of invoke() on generated inputs."""
    import ai_edge_litert
    import numpy as np
    from ai_edge_litert import interpreter  # noqa: F401 - loaded before the baseline is taken

    baseline_mb = _rss_mb()
    input_shapes = request.get("input_shapes") or {}
    t0 = time.perf_counter()
    interp = _interpreter(
        request["model_path"], threads=int(request["threads"]), accelerator=request["accelerator"]
    )
    inputs = [_tensor(d) for d in interp.get_input_details()]
    refusal = _check_memory(inputs, input_shapes, [], int(request["max_tensor_bytes"]))
    if refusal:
        return {"refusal": refusal}
    _resize(interp, input_shapes)
    interp.allocate_tensors()
    init_ms = (time.perf_counter() - t0) * 1000
    rng = np.random.default_rng(0)
    value_range = request.get("input_range")
    for detail in interp.get_input_details():
        interp.set_tensor(
            detail["index"], _random_input(rng, detail["shape"], _dtype_name(detail["dtype"]), value_range)
        )
    invoke = interp.invoke
    perf = time.perf_counter
    warmup = []
    for _ in range(max(1, int(request["warmup_runs"]))):
        t = perf()
        invoke()
        warmup.append((perf() - t) * 1000)
    timings = []
    for _ in range(int(request["timed_runs"])):
        t = perf()
        invoke()
        timings.append((perf() - t) * 1000)
    arr = np.array(timings, dtype=float)
    peak = _peak_mb()
    log = [
        f"LiteRT {ai_edge_litert.__version__}, accelerator {request['accelerator']}, {request['threads']} thread(s)",
        "Inputs: "
        + ", ".join(
            f"{t['name']} {t['dtype']} {'x'.join(map(str, d['shape']))}"
            for t, d in zip(inputs, interp.get_input_details(), strict=False)
        ),
        f"Initialization: {init_ms:.3f} ms",
        f"Warm-up runs: {len(warmup)}, first {warmup[0]:.3f} ms, mean {sum(warmup) / len(warmup):.3f} ms",
        f"Timed runs: {len(timings)}, mean {arr.mean():.4f} ms, median {np.median(arr):.4f} ms, "
        f"std {arr.std():.4f} ms, min {arr.min():.4f} ms, max {arr.max():.4f} ms",
        f"Peak memory: {peak:.1f} MB process, {peak - baseline_mb:.1f} MB above the runtime's baseline",
    ]
    return {
        "init_ms": init_ms,
        "first_inference_ms": warmup[0],
        "warmup_ms": warmup,
        "timings_ms": timings,
        "mean_ms": float(arr.mean()),
        "median_ms": float(np.median(arr)),
        "std_ms": float(arr.std()),
        "min_ms": float(arr.min()),
        "max_ms": float(arr.max()),
        "peak_memory_mb": round(max(peak - baseline_mb, 0.0), 2),
        "process_peak_memory_mb": round(peak, 2),
        "runtime_version": f"LiteRT {ai_edge_litert.__version__}",
        "count": len(timings),
        "raw_log": "\n".join(log),
    }


def main() -> int:
    mode, request_path, result_path = sys.argv[1:4]
    with open(request_path) as fh:
        request = json.load(fh)
    try:
        result = {"ok": True, **(inspect(request) if mode == "inspect" else benchmark(request))}
    except MemoryError:
        result = {"ok": False, "error": "memory", "detail": "out of memory"}
    except BaseException as exc:  # noqa: BLE001 - every failure of an untrusted model is a verdict
        result = {"ok": False, "error": type(exc).__name__, "detail": str(exc)[:2000]}
    tmp = result_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh)
    os.replace(tmp, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
