"""STAND-IN for TFLite's `benchmark_model` binary, for the test device of `tests/devices/adb_device.py`.

This is not Google's tool: it is a test double that takes the real tool's flags (`--graph`,
`--num_threads`, `--warmup_runs`, `--num_runs`, `--min_secs`, `--warmup_min_secs`, `--max_secs`,
`--use_gpu/--use_nnapi/--use_xnnpack/--use_hexagon`, `--external_delegate_path`,
`--require_full_delegation`, `--input_layer/--input_layer_shape`, `--report_peak_memory_footprint`),
really runs the model on this machine's CPU with LiteRT (`ai_edge_litert`), and prints its timings in
the real tool's output format (TF 2.x, `INFO: ` prefix, percentiles), so the runner's parser reads the
same lines as on a phone. An accelerator flag is only reported (the stand-in has no GPU or NPU).

Faults, from `MAI_STANDIN_FAULT` (set by the test device):
- `hang`: prints its start-up lines, then never finishes;
- `partial`: the chosen delegate takes only part of the graph (`… partially executed by the delegate
  w/ 3 delegate kernels.`); with `--require_full_delegation=true` it fails as the real tool does;
- `reject`: the delegate rejects the model (the real GPU delegate's error lines), exit status 1;
- `crash`: dies of SIGSEGV after loading the model;
- `slow`, `disconnect`: runs 5 s longer (with `disconnect` the test device unplugs itself meanwhile).
The test writes a copy of this file with the virtualenv's interpreter on the `#!` line.
"""

import os
import resource
import signal
import sys
import time

DELEGATE_FLAGS = [
    ("use_gpu", "GPU"),
    ("use_nnapi", "NNAPI"),
    ("use_hexagon", "Hexagon"),
    ("use_xnnpack", "XNNPACK"),
]
USAGE = """usage: benchmark_model
Flags:
\t--num_runs=50\tint32\texpected number of runs, see also min_secs, max_secs
\t--min_secs=1\tfloat\tminimum number of seconds to rerun for
\t--max_secs=150\tfloat\tmaximum number of seconds to rerun for
\t--num_threads=-1\tint32\tnumber of threads
\t--warmup_runs=1\tint32\tminimum number of runs performed on initialization
\t--warmup_min_secs=0.5\tfloat\tminimum number of seconds to rerun for
\t--graph=\tstring\tgraph file name
\t--input_layer=\tstring\tinput layer names
\t--input_layer_shape=\tstring\tinput layer shape
\t--use_gpu=false\tbool\tuse gpu
\t--use_nnapi=false\tbool\tuse nnapi delegate api
\t--use_xnnpack=false\tbool\texplicitly apply the XNNPACK delegate
\t--use_hexagon=false\tbool\tUse Hexagon delegate
\t--external_delegate_path=\tstring\tThe library path for the underlying external.
\t--require_full_delegation=false\tbool\trequire delegate to run the entire graph
\t--report_peak_memory_footprint=false\tbool\tReport the peak memory footprint
"""


def log(level, message):
    print(f"{level}: {message}", flush=True)


def fmt(value):
    """C++ `ostream << double` with the default precision (6 significant digits)."""
    return f"{value:g}"


def flag_true(flags, name):
    return flags.get(name, "false").lower() in ("1", "true")


def stat_line(values):
    count = len(values)
    if len(set(values)) == 1:
        text = f"count={count} curr={values[-1]}" + ("(all same)" if count > 1 else "")
    else:
        avg = sum(values) / count
        std = int((sum(v * v for v in values) / count - avg * avg) ** 0.5)
        text = (
            f"count={count} first={values[0]} curr={values[-1]} min={min(values)} max={max(values)} "
            f"avg={fmt(avg)} std={std}"
        )
    ordered = sorted(values)

    def percentile(p):
        return ordered[min(count - 1, max(0, int(count * p / 100)))]

    return text + f" p5={percentile(5)} median={percentile(50)} p95={percentile(95)}"


def run_phase(interpreter, min_runs, min_secs, max_secs):
    log(
        "INFO",
        f"Running benchmark for at least {min_runs} iterations and at least {fmt(min_secs)} seconds "
        f"but terminate if exceeding {fmt(max_secs)} seconds.",
    )
    times = []
    start = time.perf_counter()
    while (
        len(times) < min_runs or time.perf_counter() - start < min_secs
    ) and time.perf_counter() - start <= max_secs:
        t0 = time.perf_counter()
        interpreter.invoke()
        times.append(int((time.perf_counter() - t0) * 1e6))
    log("INFO", stat_line(times) + "\n")
    return times


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def main(argv):
    flags = {}
    for arg in argv:
        if arg in ("--help", "-h"):
            print(USAGE)
            return 0
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            flags[key] = value
    fault = os.environ.get("MAI_STANDIN_FAULT", "")
    log("INFO", "STARTING!")
    log("INFO", "Log parameter values verbosely: [0]")
    num_runs, warmup_runs = int(flags.get("num_runs", 50)), int(flags.get("warmup_runs", 1))
    min_secs, warmup_min_secs = float(flags.get("min_secs", 1)), float(flags.get("warmup_min_secs", 0.5))
    max_secs = float(flags.get("max_secs", 150))
    threads = int(flags.get("num_threads", -1))
    graph = flags.get("graph", "")
    log("INFO", f"Min num runs: [{num_runs}]")
    log("INFO", f"Num threads: [{threads}]")
    log("INFO", f"Min warmup runs: [{warmup_runs}]")
    log("INFO", f"Graph: [{graph}]")
    if not graph:
        log("ERROR", "Please specify the name of your TF Lite input file with --graph")
        log("ERROR", "Benchmarking failed.")
        return 1
    delegate = None
    for flag, name in DELEGATE_FLAGS:
        if flag_true(flags, flag):
            log("INFO", f"Use {flag[4:]}: [1]")
            delegate = delegate or name
    if flags.get("external_delegate_path"):
        log("INFO", f"External delegate path: [{flags['external_delegate_path']}]")
        delegate = delegate or "EXTERNAL"
    start_rss = rss_mb()
    t_init = time.perf_counter()
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        with open(graph, "rb") as f:
            content = f.read()
    except OSError:
        log("ERROR", f"Could not open '{graph}'.")
        log("ERROR", "Benchmarking failed.")
        return 1
    log("INFO", f"Loaded model {graph}")
    resolver = OpResolverType.AUTO
    if flags.get("use_xnnpack", "").lower() in ("0", "false"):
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interpreter = Interpreter(
            model_content=content, num_threads=max(threads, 1), experimental_op_resolver_type=resolver
        )
    except (ValueError, RuntimeError) as exc:
        log(
            "ERROR",
            "The model is not a valid Flatbuffer buffer"
            if "flatbuffer" in str(exc).lower()
            else str(exc).strip(),
        )
        log("ERROR", f"Failed to mmap model {graph}")
        log("ERROR", "Benchmarking failed.")
        return 1
    log("INFO", "Initialized TensorFlow Lite runtime.")
    if resolver == OpResolverType.AUTO:
        log("INFO", "Created TensorFlow Lite XNNPACK delegate for CPU.")
    if fault == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault in ("disconnect", "slow"):
        time.sleep(5)  # a long benchmark (the test device may drop off the bus meanwhile)
    if fault == "hang":
        while True:
            time.sleep(3600)
    if delegate:
        if fault == "reject" and delegate != "XNNPACK":
            log("ERROR", f"TfLite{delegate}Delegate Init: CONV_2D: Dimension can not be reduced to linear.")
            log("INFO", f"Created 0 {delegate} delegate kernels.")
            log("ERROR", f"TfLite{delegate}Delegate Prepare: delegate is not initialized")
            log("ERROR", f"Node number 3 (TfLite{delegate}DelegateV2) failed to prepare.")
            log("ERROR", "Restored original execution plan after delegate application failure.")
            log("ERROR", f"Failed to apply {delegate} delegate.")
            log("ERROR", "Benchmarking failed.")
            return 1
        if fault == "partial":
            if flag_true(flags, "require_full_delegation"):
                log("ERROR", "Disallowed CPU fallback detected.")
                log("ERROR", "Benchmarking failed.")
                return 1
            log(
                "INFO",
                f"Explicitly applied {delegate} delegate, and the model graph will be partially "
                "executed by the delegate w/ 3 delegate kernels.",
            )
        else:
            log(
                "INFO",
                f"Explicitly applied {delegate} delegate, and the model graph will be completely "
                "executed by the delegate.",
            )
    names = [n for n in flags.get("input_layer", "").split(",") if n]
    shapes = [s for s in flags.get("input_layer_shape", "").split(":") if s]
    details = {d["name"]: d for d in interpreter.get_input_details()}
    for name, shape in zip(names, shapes, strict=False):
        if name not in details:
            log("ERROR", f"Cannot find the corresponding input_layer name({name}) in the model.")
            log("ERROR", "Benchmarking failed.")
            return 1
        interpreter.resize_tensor_input(details[name]["index"], [int(x) for x in shape.split(",")])
    try:
        interpreter.allocate_tensors()
    except RuntimeError as exc:
        for line in str(exc).strip().splitlines():
            log("ERROR", line)
        log("ERROR", "Failed to allocate tensors!")
        log("ERROR", "Benchmarking failed.")
        return 1
    init_us = int((time.perf_counter() - t_init) * 1e6)
    init_rss = rss_mb()
    log("INFO", f"The input model file size (MB): {fmt(len(content) / 1e6)}")
    log("INFO", f"Initialized session in {fmt(init_us / 1e3)}ms.")
    warmup = run_phase(interpreter, warmup_runs, warmup_min_secs, max_secs)
    timed = run_phase(interpreter, num_runs, min_secs, max_secs)
    log(
        "INFO",
        f"Inference timings in us: Init: {init_us}, First inference: {warmup[0]}, "
        f"Warmup (avg): {fmt(sum(warmup) / len(warmup))}, Inference (avg): {fmt(sum(timed) / len(timed))}",
    )
    log(
        "INFO",
        "Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE "
        "to the actual memory footprint of the model at runtime. Take the information at your discretion.",
    )
    log(
        "INFO",
        f"Memory footprint delta from the start of the tool (MB): init={fmt(init_rss - start_rss)} "
        f"overall={fmt(rss_mb() - start_rss)}",
    )
    if flag_true(flags, "report_peak_memory_footprint"):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log("INFO", f"Overall peak memory footprint (MB) via periodic monitoring: {fmt(peak)}")
    if flag_true(flags, "enable_op_profiling"):
        print_op_profile(content, resolver, max(threads, 1), interpreter, num_runs)
    return 0


def print_op_profile(content, resolver, threads, interpreter, runs):
    """The tool's "Operator-wise Profiling Info" tables (TF 2.x layout: tab-separated, with [start]),
    from real per-operator times measured by `evaluation.profiling.profile_model` on this machine."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from evaluation.profiling import profile_model

    inputs = {d["index"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_input_details()}

    def make(data, preserve):
        kind = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if preserve else resolver
        return Interpreter(
            model_content=bytes(data),
            num_threads=threads,
            experimental_op_resolver_type=kind,
            experimental_preserve_all_tensors=preserve,
        )

    def feed(other):
        for detail in other.get_input_details():
            value = inputs[detail["index"]]
            if list(detail["shape"]) != list(value.shape):
                other.resize_tensor_input(detail["index"], list(value.shape))
        other.allocate_tensors()
        for detail in other.get_input_details():
            other.set_tensor(detail["index"], inputs[detail["index"]])

    profile = profile_model(content, make_interpreter=make, feed=feed, rounds=max(3, min(runs, 20)))
    total = sum(n["ms"] for n in profile["nodes"]) or 1.0
    head = "\t             [node type]\t          [start]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]"
    print("Operator-wise Profiling Info for Regular Benchmark Runs:")
    print("============================== Run Order ==============================")
    print(head)
    start = cdf = 0.0
    for node in profile["nodes"]:
        share = 100 * node["ms"] / total
        cdf += share
        kind = node["type"]
        # XNNPACK's own per-operator rows are named Delegate/<op>:<n>; a node left to the CPU by its output.
        name = (
            f"Delegate/{kind}:{node['index']}"
            if node["on"] == "delegate"
            else f"[{kind.lower()}_{node['index']}]:{node['index']}"
        )
        print(
            f"\t{kind:>24}\t{start:17.3f}\t{node['ms']:9.3f}\t{node['ms']:9.3f}\t{share:7.3f}%\t{cdf:7.3f}%"
            f"\t{0.0:10.3f}\t{1:9d}\t{name}"
        )
        start += node["ms"]
    print()
    print(f"Number of nodes executed: {len(profile['nodes'])}")
    print("============================== Summary by node type ==============================")
    print(
        "\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]"
    )
    cdf = 0.0
    for entry in profile["by_type"]:
        kind = entry["type"]
        share = 100 * entry["ms"] / total
        cdf += share
        print(
            f"\t{kind:>24}\t{entry['count']:9d}\t{entry['ms']:10.3f}\t{share:10.3f}%\t{cdf:10.3f}%\t{0.0:10.3f}"
            f"\t{entry['count']:9d}"
        )
    print()
    print(f"Timings (microseconds): count={runs} curr={int(total * 1000)}")
    print("Memory (bytes): count=0")
    print(f"{len(profile['nodes'])} nodes observed")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
