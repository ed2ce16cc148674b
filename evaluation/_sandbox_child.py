"""The code that runs inside the sandbox (`common.sandbox`) on an untrusted .tflite: `inspect(request)`
describes it, `benchmark(request)` measures it (repetitions with thermal readings and power samples from
`evaluation.sysfs`), `profile(request)` times each operator (`evaluation.profiling`), each returning a
plain dict.

Called as `run_sandboxed("evaluation._sandbox_child:inspect", request, …)`; imports only the standard
library, numpy, ai-edge-litert and the stdlib-only helpers `evaluation.sysfs`/`evaluation.profiling`: no
Django, no database, no network. A crash (SIGSEGV in LiteRT, out of
memory under RLIMIT_AS) leaves no result and the parent turns the signal into a verdict.
"""

import contextlib
import math
import os
import resource
import time

from evaluation import sysfs

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


# --- The model's graph, from its flatbuffer (public schema; no private interpreter calls) ------------

# schema.TensorType value → (numpy name, bytes per element).
TENSOR_TYPES = {
    0: ("float32", 4),
    1: ("float16", 2),
    2: ("int32", 4),
    3: ("uint8", 1),
    4: ("int64", 8),
    5: ("string", 1),
    6: ("bool", 1),
    7: ("int16", 2),
    8: ("complex64", 8),
    9: ("int8", 1),
    10: ("float64", 8),
    11: ("complex128", 16),
    12: ("uint64", 8),
    13: ("resource", 1),
    14: ("variant", 1),
    15: ("uint32", 4),
    16: ("uint16", 2),
    17: ("int4", 1),
    18: ("bfloat16", 2),
}


def _ints(value) -> list[int]:
    # The generated accessors return 0 (not an empty array) for an absent vector.
    return [] if isinstance(value, int) else [int(v) for v in value]


def read_graph(content: bytes) -> dict:
    """Operators, tensors and their producers/consumers of every subgraph, read lazily from the
    flatbuffer with LiteRT's generated schema. Tensor names are never decoded."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAs(content, 0)
    opcodes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.CustomCode() or b"CUSTOM"
            opcodes.append(custom.decode("utf-8", "replace"))
        else:
            opcodes.append(names.get(builtin, f"BUILTIN_{builtin}"))
    buffer_bytes = []
    for i in range(model.BuffersLength()):
        buf = model.Buffers(i)
        buffer_bytes.append(int(buf.DataLength()) or int(buf.Size() or 0))
    subgraphs = []
    for g in range(model.SubgraphsLength()):
        sg = model.Subgraphs(g)
        tensors = []
        for t in range(sg.TensorsLength()):
            tensor = sg.Tensors(t)
            dtype, width = TENSOR_TYPES.get(int(tensor.Type()), ("unknown", 4))
            shape = _ints(tensor.ShapeAsNumpy())
            signature = _ints(tensor.ShapeSignatureAsNumpy()) or shape
            buffer = int(tensor.Buffer())
            constant = buffer_bytes[buffer] if 0 < buffer < len(buffer_bytes) else 0
            tensors.append(
                {
                    "shape": shape,
                    "signature": signature if len(signature) == len(shape) else shape,
                    "dtype": dtype,
                    "width": width,
                    "constant_bytes": constant,
                    "variable": bool(tensor.IsVariable()),
                }
            )
        ops = []
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            index = int(op.OpcodeIndex())
            ops.append(
                {
                    "name": opcodes[index] if 0 <= index < len(opcodes) else "UNKNOWN",
                    "inputs": [i for i in _ints(op.InputsAsNumpy()) if i >= 0],
                    "outputs": [i for i in _ints(op.OutputsAsNumpy()) if i >= 0],
                }
            )
        subgraphs.append(
            {
                "tensors": tensors,
                "ops": ops,
                "inputs": _ints(sg.InputsAsNumpy()),
                "outputs": _ints(sg.OutputsAsNumpy()),
            }
        )
    return {"subgraphs": subgraphs}


def peak_tensor_bytes(subgraph: dict, sizes: dict[int, int]) -> int:
    """The most tensor memory alive at once while the ops run in order: a tensor lives from the op
    that writes it (inputs: from the start) to the last op that reads it (outputs: to the end);
    constants (their buffers) and variables live throughout. `sizes` maps tensor index → bytes."""
    tensors = subgraph["tensors"]
    ops = subgraph["ops"]
    steps = max(len(ops), 1)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    always = 0
    for index, tensor in enumerate(tensors):
        if tensor["constant_bytes"]:
            always += tensor["constant_bytes"]
        elif tensor["variable"]:
            always += sizes.get(index, 0)
    for index in subgraph["inputs"]:
        first[index] = 0
        last[index] = max(last.get(index, 0), 0)
    for step, op in enumerate(ops):
        for index in op["inputs"]:
            last[index] = max(last.get(index, step), step)
            first.setdefault(index, step)
        for index in op["outputs"]:
            first[index] = min(first.get(index, step), step)
            last[index] = max(last.get(index, step), step)
    for index in subgraph["outputs"]:
        first.setdefault(index, steps - 1)
        last[index] = steps - 1
    delta = [0] * (steps + 1)
    for index, start in first.items():
        if index >= len(tensors) or tensors[index]["constant_bytes"] or tensors[index]["variable"]:
            continue
        size = sizes.get(index, 0)
        delta[min(start, steps - 1)] += size
        delta[min(last.get(index, start), steps - 1) + 1] -= size
    peak = alive = 0
    for change in delta[:steps]:
        alive += change
        peak = max(peak, alive)
    return peak + always


def _estimated_sizes(subgraph: dict, input_shapes: list) -> dict[int, int]:
    """Bytes of every tensor at the resized input shapes, before LiteRT computes them: a dynamic
    dimension (signature −1) grows by the factor its input's matching dimension grew. Exact for
    same-size and up-sampling layers; an upper bound after strided ones."""
    factors: dict[int, float] = {}
    total = 1.0
    for index, shape in zip(subgraph["inputs"], input_shapes, strict=False):
        if shape is None or index >= len(subgraph["tensors"]):
            continue
        stored = subgraph["tensors"][index]["shape"]
        if len(stored) != len(shape):
            continue
        for axis, (old, new) in enumerate(zip(stored, shape, strict=True)):
            ratio = max(int(new), 1) / max(int(old), 1)
            factors[axis] = max(factors.get(axis, 1.0), ratio)
        total = max(
            total, math.prod(max(int(d), 1) for d in shape) / math.prod(max(int(d), 1) for d in stored)
        )
    sizes = {}
    for index, tensor in enumerate(subgraph["tensors"]):
        if tensor["constant_bytes"]:
            continue
        n = float(tensor["width"])
        rank = len(tensor["shape"])
        dynamic = [axis for axis, d in enumerate(tensor["signature"]) if d < 0]
        for d in tensor["shape"]:
            n *= max(int(d), 1)
        if dynamic:
            if rank and all(axis in factors for axis in dynamic) and rank == len(factors):
                for axis in dynamic:
                    n *= factors[axis]
            else:
                n *= total
        sizes[index] = int(n)
    return sizes


def resolve_shape(signature: list[int], requested, hint) -> tuple[list[int] | None, str]:
    """The shape an input runs at: declared dimensions as they are; a dynamic batch (first
    dimension) at 1; other dynamic dimensions from `requested` (a full shape someone typed) or
    `hint` (the track's shape, None where it is free). Returns (shape, "") or (None, problem) with
    problem "rank", "fixed" (requested contradicts a declared dimension) or "missing"."""
    rank = len(signature)
    if requested:
        requested = [int(d) for d in requested]
        if len(requested) != rank:
            return None, "rank"
        if any(s >= 0 and s != r for s, r in zip(signature, requested, strict=True)):
            return None, "fixed"
        if any(r < 1 for r in requested):
            return None, "missing"
        return requested, ""
    usable_hint = hint if hint is not None and len(hint) == rank else None
    shape = []
    for axis, dim in enumerate(signature):
        if dim >= 0:
            shape.append(int(dim))
        elif axis == 0 and rank > 1:
            shape.append(1)
        elif usable_hint is not None and usable_hint[axis] is not None and int(usable_hint[axis]) > 0:
            shape.append(int(usable_hint[axis]))
        else:
            return None, "missing"
    return shape, ""


def _check_memory(inputs: list[dict], input_shapes: dict, tensors: list[dict], limit: int) -> dict | None:
    """Refuses an input that alone cannot fit, before allocate_tensors() tries (and takes minutes)."""
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
    return None


def _memory_refusal(peak: int, limit: int, shapes: list) -> dict:
    return {
        "kind": "memory",
        "position": None,
        "shape": shapes[0] if shapes else None,
        "dtype": None,
        "bytes": int(peak),
        "limit": limit,
    }


def _allocated_sizes(interp, count: int) -> dict[int, int]:
    """Bytes of every tensor of the main subgraph's `count` model tensors as LiteRT sized them (public
    API; LiteRT skips tensors whose name is not valid UTF-8: they keep their estimate; kernels' scratch
    tensors, numbered after the model's, are left out)."""
    sizes = {}
    for detail in interp.get_tensor_details():
        if int(detail["index"]) >= count:
            continue
        try:
            sizes[int(detail["index"])] = _nbytes(detail["shape"], _dtype_name(detail["dtype"]))
        except (TypeError, ValueError, KeyError):
            continue
    return sizes


def inspect(request: dict) -> dict:
    """Describes a model and checks that it runs as the runtime job will run it: the same interpreter
    options (XNNPACK unless the job asks for plain CPU kernels), inputs resized to the shape the job
    uses, tensors allocated under the sandbox's address-space limit and, when the model is small
    enough for one run to cost milliseconds, one invoke() on generated inputs."""
    path = request["model_path"]
    with open(path, "rb") as fh:
        content = fh.read()
    size = len(content)
    limit = int(request["max_tensor_bytes"])
    threads = int(request.get("threads") or 1)
    accelerator = request.get("accelerator") or "xnnpack"
    interp = _interpreter(path, threads=threads, accelerator="cpu")
    inputs = [_tensor(d) for d in interp.get_input_details()]
    outputs = [_tensor(d) for d in interp.get_output_details()]
    graph = read_graph(content)
    main_graph = (
        graph["subgraphs"][0]
        if graph["subgraphs"]
        else {"tensors": [], "ops": [], "inputs": [], "outputs": []}
    )
    operators: dict[str, int] = {}
    for op in main_graph["ops"]:
        operators[op["name"]] = operators.get(op["name"], 0) + 1
    dtypes = sorted(
        {
            t["dtype"]
            for sg in graph["subgraphs"]
            for t in sg["tensors"]
            if t["dtype"] not in ("resource", "variant")
        }
    )
    requested = request.get("input_shapes") or {}
    hints = request.get("shape_hints") or {}
    shapes, problems = [], []
    for position, tensor in enumerate(inputs):
        shape, problem = resolve_shape(
            tensor["shape_signature"],
            requested.get(str(position)) or requested.get(position),
            hints.get(str(position), hints.get(position)),
        )
        shapes.append(shape)
        if problem:
            problems.append({"position": position, "problem": problem})
    result = {
        "size_bytes": size,
        "inputs": inputs,
        "outputs": outputs,
        "operators": operators,
        "tensor_dtypes": dtypes,
        "tensor_count": len(main_graph["tensors"]),
        "tensor_bytes": 0,
        "input_shapes_run": shapes,
        "shape_problems": problems,
        "peak_bytes": 0,
        "invoked": False,
    }
    resolved = {str(p): s for p, s in enumerate(shapes) if s is not None}
    refusal = _check_memory(inputs, resolved, [], limit)
    if refusal:
        result["refusal"] = refusal
        return result
    if problems:
        return result  # the caller says which shape to give; nothing is allocated
    estimate = peak_tensor_bytes(main_graph, _estimated_sizes(main_graph, shapes))
    result["peak_bytes"] = estimate
    # LiteRT's plain kernels size every tensor at the new shapes (cheap: the arena is reserved, not
    # touched); the XNNPACK delegate would leave its own tensors at their stored placeholder sizes.
    _resize_all(interp, inputs, shapes)
    try:
        interp.allocate_tensors()
    except (RuntimeError, ValueError, MemoryError) as exc:
        # Under RLIMIT_AS a refused allocation reads like a shape error: the estimate tells them apart.
        if estimate > limit or isinstance(exc, MemoryError):
            result["refusal"] = _memory_refusal(estimate, limit, shapes)
            return result
        at = " and ".join("×".join(str(d) for d in shape) for shape in shapes)
        raise RuntimeError(f"cannot prepare at input shape {at}: {exc}") from None
    sizes = _estimated_sizes(main_graph, shapes)
    sizes.update(_allocated_sizes(interp, len(main_graph["tensors"])))
    peak = peak_tensor_bytes(main_graph, sizes)
    result["peak_bytes"] = peak
    used = set(main_graph["inputs"]) | set(main_graph["outputs"])
    used.update(i for op in main_graph["ops"] for i in op["inputs"] + op["outputs"])
    result["tensor_bytes"] = sum(size for index, size in sizes.items() if index in used)
    result["output_shapes_run"] = [[int(d) for d in o["shape"]] for o in interp.get_output_details()]
    if peak > limit:
        result["refusal"] = _memory_refusal(peak, limit, shapes)
        return result
    if accelerator != "cpu":
        # Confirm with the options the job and the fidelity run use: XNNPACK, allocated under the
        # sandbox's address-space limit.
        del interp
        interp = _interpreter(path, threads=threads, accelerator=accelerator)
        _resize_all(interp, inputs, shapes)
        interp.allocate_tensors()
    result["allocated"] = True
    budget = request.get("invoke_max_bytes")
    budget = 64 * 2**20 if budget is None else int(budget)
    written = sum(sizes.get(i, 0) for op in main_graph["ops"] for i in op["outputs"])
    if written <= budget:
        import numpy as np

        rng = np.random.default_rng(0)
        for detail in interp.get_input_details():
            interp.set_tensor(
                detail["index"],
                _random_input(rng, detail["shape"], _dtype_name(detail["dtype"]), request.get("input_range")),
            )
        print("intake: invoke on generated inputs", flush=True)
        try:
            interp.invoke()
        except Exception as exc:  # noqa: BLE001 - reported as the model's failure to run
            raise RuntimeError(f"invoke() failed: {exc}") from None
        result["invoked"] = True
    return result


def _resize_all(interp, inputs: list[dict], shapes: list) -> None:
    for tensor, shape in zip(inputs, shapes, strict=True):
        if shape != tensor["shape"]:
            interp.resize_tensor_input(tensor["index"], shape, strict=False)


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
    root = request.get("sysfs_root") or ""
    power_source = next(iter(sysfs.power_sources(root)), None)
    baseline = sysfs.idle_power(power_source, seconds=0.5) if power_source else []
    invoke = interp.invoke
    perf = time.perf_counter
    warmup = []
    for _ in range(max(1, int(request["warmup_runs"]))):
        t = perf()
        invoke()
        warmup.append((perf() - t) * 1000)
    timings, repetitions, during = [], [], []
    for repetition in range(max(1, int(request.get("repetitions") or 1))):
        cooldown = None
        if repetition:
            cooldown = sysfs.cool_down(
                root,
                threshold_c=float(request.get("cooldown_threshold_c") or 45.0),
                pause_s=float(request.get("cooldown_pause_s") or 0.0),
                max_wait_s=float(request.get("cooldown_max_s") or 60.0),
            )
        before = sysfs.read_thermal(root)
        sampler = sysfs.PowerSampler(power_source) if power_source else contextlib.nullcontext()
        these = []
        with sampler:
            for _ in range(int(request["timed_runs"])):
                t = perf()
                invoke()
                these.append((perf() - t) * 1000)
        if power_source:
            during.extend(sampler.samples)
        timings.extend(these)
        part = np.array(these, dtype=float)
        repetitions.append(
            {
                "index": repetition + 1,
                "n": len(these),
                "mean_ms": float(part.mean()),
                "median_ms": float(np.median(part)),
                "std_ms": float(part.std(ddof=1)) if len(these) > 1 else 0.0,
                "min_ms": float(part.min()),
                "max_ms": float(part.max()),
                "thermal_before": before,
                "thermal_after": sysfs.read_thermal(root),
                "cooldown": cooldown,
            }
        )
    arr = np.array(timings, dtype=float)
    power = sysfs.power_summary(power_source, baseline, during, float(arr.mean())) if power_source else None
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
        "litert_version": ai_edge_litert.__version__,
        "count": len(timings),
        "p5_ms": float(np.percentile(arr, 5)),
        "p95_ms": float(np.percentile(arr, 95)),
        "repetitions": repetitions,
        "power": power,
        "thermal_source": repetitions[0]["thermal_before"]["source"],
        "input_shapes_run": [[int(d) for d in detail["shape"]] for detail in interp.get_input_details()],
        "raw_log": "\n".join(log),
    }


def profile(request: dict) -> dict:
    """The per-operator profile of the model with the job's kernels, threads and input shapes
    (`evaluation.profiling.profile_model`)."""
    import numpy as np

    from evaluation.profiling import profile_model

    with open(request["model_path"], "rb") as fh:
        data = fh.read()
    threads, accelerator = int(request["threads"]), request["accelerator"]
    input_shapes = request.get("input_shapes") or {}
    value_range = request.get("input_range")

    def make_interpreter(content: bytes, preserve: bool):
        from ai_edge_litert import interpreter as litert

        resolver = (
            litert.OpResolverType.AUTO
            if accelerator == "xnnpack" and not preserve
            else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        return litert.Interpreter(
            model_content=bytes(content),
            num_threads=threads,
            experimental_op_resolver_type=resolver,
            experimental_preserve_all_tensors=preserve,
        )

    def feed(interp) -> None:
        _resize(interp, input_shapes)
        interp.allocate_tensors()
        rng = np.random.default_rng(0)
        for detail in interp.get_input_details():
            interp.set_tensor(
                detail["index"],
                _random_input(rng, detail["shape"], _dtype_name(detail["dtype"]), value_range),
            )

    return profile_model(
        data, make_interpreter=make_interpreter, feed=feed, rounds=int(request.get("rounds") or 10)
    )
