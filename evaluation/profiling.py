"""Per-operator profiles of a runtime job: which operators take the time, which nodes ran on the delegate
and which fell back to the CPU. Plain Python (numpy and LiteRT imported lazily, only by the host
profiler); no Django: the device worker and the sandbox child use it.

Where a profile comes from, per transport:
- adb (Android): TFLite's `benchmark_model --enable_op_profiling=true` prints "Operator-wise Profiling Info
  for Regular Benchmark Runs" (tensorflow/lite/profiling/profile_summary_formatter.cc): a "Run Order"
  table (`[node type] [start] [first] [avg ms] [%] [cdf%] [mem KB] [times called] [Name]`, tab-separated
  with a `[start]` column up to TF 2.x, space-aligned without it in newer builds), "Top by Computation
  Time", then "Summary by node type" (`[Node type] [count] [avg ms] [avg %] [cdf %] [mem KB]
  [times called]`). Delegated work shows as rows whose type is the delegate kernel
  (`TfLiteGpuDelegateV2`, `TfLiteXNNPackDelegate`…) or, with XNNPACK's own per-op profiling, whose name
  is `Delegate/<XNNPACK op>:<n>`; every other row is a TFLite node the CPU ran, named
  `[<output tensor>]:<node index>`. `[avg ms]` is per call, so a row's time per inference is
  avg × times called. `parse_op_profile(text)` reads both layouts.
- local (host CPU) and ssh (boards): `litert-benchmark` (ai-edge-litert 2.3) has no op-profiling flag and
  LiteRT's Python API exposes no profiler, so `profile_model` measures each operator itself: the model is
  run once with every intermediate tensor preserved, each operator of the main graph becomes a one-op
  model (same tensors and weights) fed with its real inputs, and in every round the whole model and each
  one-op model are invoked, interleaved, so both see the same machine load (each one-op model runs twice
  in a row and the second run is timed: its inputs are then in the cache, as they are in the whole model
  where the operator before has just written them). An operator's time is
  the median over rounds minus the cost of one `invoke()` of a trivial model (measured in the same
  rounds); the whole model's median is recorded beside the sum so the page can show how well they agree.
  Each operator's fastest run is kept too (`min_ms`, summed as `total_min_ms`): on a shared, loaded
  machine the medians of short one-op runs and of the longer whole-model runs are disturbed differently
  (a longer run is more often preempted), while the best times still add up to the fastest inference.
  Known bias, measured here: an operator run alone twice also finds its weights in the cache, which the
  whole model streams from memory; for a small net (two 3×3 convolutions at 256×256) the best times add
  up to 0.99–1.05 of the fastest inference, for MobileNetV2 (14 MB of weights) to ~0.8 (timed cold, i.e.
  without the first run, they overshoot instead: 1.15 and 1.26). The page shows both sums beside the
  measured times.
  With XNNPACK, an operator the delegate does not take in its one-op model is reported as on the CPU.

A profile (JSON, stored on the job) is `{"source", "nodes": [{"index", "type", "name", "ms", "calls",
"on"}], "by_type": [{"type", "count", "ms", "percent", "on"}], "total_ms", "whole_ms", "delegate",
"cpu_types", "node_count", "cpu_nodes", "summary"}`; `on` is "delegate" or "cpu"; times are per inference.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter

RUN_HEADER = "Operator-wise Profiling Info for Regular Benchmark Runs"
_SECTION = re.compile(r"=+ (?P<title>[A-Za-z ]+?) =+")
_DELEGATE_TYPE = re.compile(r"delegate", re.IGNORECASE)


def _fields(line: str) -> list[str]:
    """A table row's cells: tab-separated (older tool) or aligned with runs of spaces (newer)."""
    text = re.sub(r"^\s*(?:INFO: )?", "", line.rstrip())
    cells = [c.strip() for c in text.split("\t")] if "\t" in text else re.split(r"\s{2,}", text.strip())
    return [c for c in cells if c != ""]


def _float(text: str) -> float:
    return float(text.rstrip("%"))


def _is_delegated(node_type: str, name: str) -> bool:
    return name.startswith("Delegate/") or bool(_DELEGATE_TYPE.search(node_type))


def _delegate_name(nodes: list[dict]) -> str:
    for node in nodes:
        if node["on"] == "delegate":
            if node["name"].startswith("Delegate/"):
                return "XNNPACK"
            return node["type"]
    return ""


def parse_op_profile(text: str) -> dict | None:
    """The per-operator profile in `benchmark_model` output (None when the run was not profiled)."""
    start = text.find(RUN_HEADER)
    if start < 0:
        return None
    section = ""
    header: list[str] = []
    nodes: list[dict] = []
    by_type: list[dict] = []
    total_nodes = None
    for line in text[start:].splitlines()[1:]:
        title = _SECTION.search(line)
        if title:
            section = title.group("title").strip()
            header = []
            continue
        stripped = line.strip()
        if stripped.startswith("Number of nodes executed:"):
            total_nodes = int(stripped.rsplit(":", 1)[1])
            continue
        if stripped.startswith("Timings (microseconds)") or stripped.endswith("nodes observed"):
            if stripped.endswith("nodes observed"):
                break
            continue
        cells = _fields(line)
        if not cells:
            continue
        if cells[0].startswith("["):
            header = [c.strip("[]").lower() for c in cells]
            continue
        if not header:
            continue
        row = dict(zip(header, cells, strict=False))
        try:
            if section == "Run Order" and "avg ms" in row:
                name = row.get("name", "")
                calls = int(row.get("times called", "1"))
                index = re.search(r":(\d+)$", name)
                nodes.append(
                    {
                        "index": int(index.group(1)) if index else None,
                        "type": row["node type"],
                        "name": name,
                        "ms": _float(row["avg ms"]) * calls,
                        "calls": calls,
                        "on": "delegate" if _is_delegated(row["node type"], name) else "cpu",
                    }
                )
            elif section == "Summary by node type" and "avg ms" in row:
                by_type.append(
                    {
                        "type": row["node type"],
                        "count": int(row["count"]),
                        "ms": _float(row["avg ms"]),
                        "percent": _float(row["avg %"]),
                    }
                )
        except (KeyError, ValueError):
            continue  # a line that is not a row of the table (a wrapped name, a log line)
    if not nodes:
        return None
    return build_profile(
        nodes,
        source="benchmark_model --enable_op_profiling",
        by_type=by_type or None,
        executed=total_nodes,
    )


def build_profile(
    nodes: list[dict],
    *,
    source: str,
    by_type: list[dict] | None = None,
    executed: int | None = None,
    whole_ms: float | None = None,
    delegate: str | None = None,
    extra: dict | None = None,
) -> dict:
    """The stored profile from its nodes (each with type, name, ms, calls, on)."""
    kinds = {node["type"]: node["on"] for node in nodes}
    if by_type is None:
        totals: dict[str, list] = {}
        for node in nodes:
            entry = totals.setdefault(node["type"], [0, 0.0])
            entry[0] += 1
            entry[1] += node["ms"] or 0.0
        grand = sum(v[1] for v in totals.values()) or 1.0
        by_type = [
            {"type": t, "count": c, "ms": ms, "percent": 100.0 * ms / grand} for t, (c, ms) in totals.items()
        ]
    for entry in by_type:
        entry["on"] = kinds.get(entry["type"], "cpu")
    by_type.sort(key=lambda e: -e["ms"])
    cpu = [n for n in nodes if n["on"] == "cpu"]
    delegate = delegate if delegate is not None else _delegate_name(nodes)
    profile = {
        "source": source,
        "nodes": nodes,
        "by_type": by_type,
        "total_ms": sum(n["ms"] or 0.0 for n in nodes),
        "whole_ms": whole_ms,
        "delegate": delegate,
        "node_count": executed if executed is not None else len(nodes),
        "cpu_nodes": len(cpu),
        "cpu_types": dict(Counter(n["type"] for n in cpu).most_common()),
    }
    profile.update(extra or {})
    profile["summary"] = delegation_summary(profile)
    return profile


def delegation_summary(profile: dict, *, model_nodes: int | None = None) -> str:
    """ "fully delegated to XNNPACK", "partially delegated: 3 of 65 nodes on CPU: RESIZE_BILINEAR ×2, …"
    or "no delegate: all 31 nodes on the CPU". `model_nodes` (the model's operator count, from intake)
    replaces the profile's own count where the delegate's rows are not TFLite nodes."""
    delegate = profile.get("delegate") or ""
    cpu_types = profile.get("cpu_types") or {}
    cpu_nodes = int(profile.get("cpu_nodes") or 0)
    total = model_nodes or profile.get("node_count") or 0
    if not delegate:
        return f"no delegate: all {total} nodes on the CPU"
    if cpu_nodes == 0:
        return f"fully delegated to {delegate}"
    listed = ", ".join(f"{name} ×{count}" for name, count in cpu_types.items())
    return f"partially delegated to {delegate}: {cpu_nodes} of {total} nodes on CPU: {listed}"


def top_operator_types(profile: dict, limit: int = 10) -> list[dict]:
    """The operator types that take the most time, each with its share of the largest (for a bar)."""
    rows = sorted(profile.get("by_type") or [], key=lambda e: -(e.get("ms") or 0.0))[:limit]
    largest = max((r.get("ms") or 0.0 for r in rows), default=0.0) or 1.0
    return [dict(r, share=(r.get("ms") or 0.0) / largest) for r in rows]


# --- The host profiler (LiteRT, in the sandbox) ----------------------------------------------------


def _one_op_models(data: bytes):
    """(operator type, one-op model bytes, input tensor indices) for each operator of the main graph.

    A one-op model carries only its own operator's weights (the other buffers left empty), so that the
    one-op models of a 14 MB network do not hold 67 × 14 MB; with control flow (several subgraphs) every
    buffer is kept."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    graph = model.subgraphs[0]
    operators, inputs, outputs, buffers = list(graph.operators), graph.inputs, graph.outputs, model.buffers
    constant = {
        i
        for i, tensor in enumerate(graph.tensors)
        if tensor.buffer and buffers[tensor.buffer].data is not None and len(buffers[tensor.buffer].data)
    }
    empty = schema.BufferT()
    result = []
    try:
        for op in operators:
            graph.operators = [op]
            graph.inputs = [i for i in op.inputs if i >= 0 and i not in constant]
            graph.outputs = list(op.outputs)
            if len(model.subgraphs) == 1:
                used = {graph.tensors[i].buffer for i in [*op.inputs, *op.outputs] if i >= 0}
                model.buffers = [b if k in used or k == 0 else empty for k, b in enumerate(buffers)]
            op_type = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex)
            result.append(
                (op_type, bytes(flatbuffer_utils.convert_object_to_bytearray(model)), list(graph.inputs))
            )
    finally:
        graph.operators, graph.inputs, graph.outputs, model.buffers = operators, inputs, outputs, buffers
    return result


def _trivial_model() -> bytes:
    """A one-op model (ADD of a one-float tensor to itself, which XNNPACK takes) whose invoke() is the
    fixed cost of calling the runtime and, with XNNPACK, the delegate."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = schema.ModelT()
    model.version = 3
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.ADD
    code.version = 1
    model.operatorCodes = [code]
    model.buffers = [schema.BufferT()]
    tensors = []
    for name in ("x", "y"):
        tensor = schema.TensorT()
        tensor.shape = [1]
        tensor.type = schema.TensorType.FLOAT32
        tensor.buffer = 0
        tensor.name = name
        tensors.append(tensor)
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs, op.outputs = [0, 0], [1]
    op.builtinOptionsType = schema.BuiltinOptions.AddOptions
    op.builtinOptions = schema.AddOptionsT()
    graph = schema.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [0], [1], [op]
    model.subgraphs = [graph]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def profile_model(
    data: bytes,
    *,
    make_interpreter,
    feed,
    rounds: int = 20,
) -> dict:
    """Per-operator profile of a model on this host (see the module's docstring).

    `make_interpreter(content: bytes, preserve: bool)` builds a LiteRT interpreter with the job's kernels
    and threads (plain built-in kernels when `preserve`); `feed(interpreter)` resizes, allocates and sets
    the job's inputs on the whole model."""
    reference = make_interpreter(data, True)
    feed(reference)
    reference.invoke()
    whole = make_interpreter(data, False)
    feed(whole)
    whole.invoke()
    uses_delegate = _delegate_node_count(whole) > 0
    singles, nodes, failed = [], [], []
    for index, (op_type, content, inputs) in enumerate(_one_op_models(data)):
        node = {
            "index": index,
            "type": op_type,
            "name": f"{op_type}:{index}",
            "ms": None,
            "calls": 1,
            "on": "cpu",
        }
        nodes.append(node)
        try:
            single = make_interpreter(content, False)
            details = single.get_input_details()
            values = [reference.get_tensor(i) for i in inputs]
            for detail, value in zip(details, values, strict=True):
                if list(detail["shape"]) != list(value.shape):
                    single.resize_tensor_input(detail["index"], list(value.shape), strict=False)
            single.allocate_tensors()
            for detail, value in zip(single.get_input_details(), values, strict=True):
                single.set_tensor(detail["index"], value)
            single.invoke()
        except Exception as exc:  # noqa: BLE001 - an operator that cannot run alone is reported, not fatal
            failed.append(f"{op_type}:{index}: {exc}")
            continue
        if uses_delegate and _delegate_node_count(single) > 0:
            node["on"] = "delegate"
        singles.append((node, single))
    trivial = make_interpreter(_trivial_model(), False)
    trivial.allocate_tensors()
    trivial.invoke()
    perf = time.perf_counter
    whole_times, trivial_times = [], []
    samples: dict[int, list[float]] = {id(node): [] for node, _ in singles}
    run_whole, run_trivial = whole.invoke, trivial.invoke
    for _ in range(max(3, int(rounds))):
        t = perf()
        run_whole()
        whole_times.append((perf() - t) * 1000)
        t = perf()
        run_trivial()
        trivial_times.append((perf() - t) * 1000)
        for node, single in singles:
            run = single.invoke
            run()  # brings its inputs into the cache, as the operator before it does in the whole model
            t = perf()
            run()
            samples[id(node)].append((perf() - t) * 1000)
    overhead, least_overhead = statistics.median(trivial_times), min(trivial_times)
    for node, _ in singles:
        node["ms"] = max(0.0, statistics.median(samples[id(node)]) - overhead)
        node["min_ms"] = max(0.0, min(samples[id(node)]) - least_overhead)
    timed = [n for n in nodes if n["ms"] is not None]
    delegate = "XNNPACK" if uses_delegate else ""
    return build_profile(
        timed,
        source="LiteRT, one operator at a time (interleaved rounds)",
        whole_ms=statistics.median(whole_times),
        delegate=delegate,
        executed=len(nodes),
        extra={
            "rounds": len(whole_times),
            # Best times (the least disturbed by other work on a shared machine): the sum of each
            # operator's fastest run against the whole model's fastest run.
            "total_min_ms": sum(n["min_ms"] for n in timed),
            "whole_min_ms": min(whole_times),
            "invoke_overhead_ms": overhead,
            "untimed": failed,
        },
    )


def _delegate_node_count(interpreter) -> int:
    """How many delegate kernels LiteRT put into the interpreter's graph (nodes named DELEGATE or
    TfLite…Delegate after the original operators)."""
    wrapper = interpreter._interpreter  # noqa: SLF001 - node names are only on the wrapper
    count = sum(1 for i in range(wrapper.NumNodes()) if "DELEGATE" in str(wrapper.NodeName(i)).upper())
    del wrapper
    return count
