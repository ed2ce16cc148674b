"""Parser of the output of TFLite's `benchmark_model` tool (tensorflow/lite/tools/benchmark), old and new.

The tool logs through TFLITE_LOG, with an `INFO: ` / `ERROR: ` / `VERBOSE: ` prefix in TF >= 2.3 and
without one before; through logcat each line also carries a `I tflite  : ` tag. Lines it prints:

- `Initialized session in 17.187ms.`
- one `count=… first=… curr=… min=… max=… avg=… std=…` line per run phase (warm-up, then timed runs),
  from tensorflow's `Stat::OutputToStream`: `count=N curr=X` (one run), `count=N curr=X(all same)`,
  optionally followed by `p5=… median=… p95=…` (StatWithPercentiles); averages are C++ doubles
  streamed with default precision, hence `avg=2.95034e+06`;
- `Inference timings in us: Init: …, First inference: …, Warmup (avg): …, Inference (avg): …`
  (TF 1.x: `Average inference timings in us: Warmup: …, Init: …, no stats: …` / `Inference: …`);
- memory: `Memory footprint delta from the start of the tool (MB): init=… overall=…`
  (older: `Peak memory footprint (MB): init=… overall=…`) and, with
  `--report_peak_memory_footprint=true`, `Overall peak memory footprint (MB) via periodic monitoring: …`;
- delegation: `Explicitly applied GPU delegate, and the model graph will be completely executed by the
  delegate.` / `… partially executed by the delegate w/ N delegate kernels.` / `Though X delegate is
  explicitly applied, the model graph will not be executed by the delegate.`;
- errors: `ERROR: …` lines, ending with `Benchmarking failed.`

`parse_benchmark_output(text)` returns a `BenchmarkOutput`; `.to_run_result(...)` turns it into the
runner interface's `RunResult` (milliseconds). Plain Python, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evaluation.runners.base import RunResult

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"

# `INFO: `, `ERROR: `…, or a logcat tag `07-08 15:33:55.790 I/tflite  ( 5395): ` / `… I tflite  : `.
_PREFIX = re.compile(
    r"^\s*(?:\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+(?:\d+\s+\d+\s+)?[VDIWEF][/ ]tflite\s*(?:\(\s*\d+\))?\s*:\s*)?"
    r"(?:(?P<level>INFO|ERROR|WARNING|VERBOSE|DEBUG): )?"
)
_STAT_KEY = re.compile(rf"\b(count|first|curr|min|max|avg|std|p5|median|p95)=({NUM})(\(all same\))?")
_TIMINGS = re.compile(
    rf"Inference timings in us: Init: (?P<init>{NUM}), First inference: (?P<first>{NUM}), "
    rf"Warmup \(avg\): (?P<warmup>{NUM}), Inference \(avg\): (?P<inference>{NUM})"
)
_OLD_TIMINGS = re.compile(
    rf"Average inference timings in us: Warmup: (?P<warmup>{NUM}), Init: (?P<init>{NUM}), "
    rf"(?:no stats|Inference): (?P<inference>{NUM})"
)
_INIT_SESSION = re.compile(rf"Initialized session in (?P<ms>{NUM}) ?ms")
_MEM_DELTA = re.compile(
    rf"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): "
    rf"init=(?P<init>{NUM}) overall=(?P<overall>{NUM})"
)
_MEM_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: (?P<mb>{NUM})")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): (?P<mb>{NUM})")
_FULL = re.compile(
    r"Explicitly applied (?P<name>.+?) delegate, and the model graph will be completely"
    r" executed by the delegate"
)
_PARTIAL = re.compile(
    r"Explicitly applied (?P<name>.+?) delegate, and the model graph will be partially"
    r" executed by the delegate w/ (?P<kernels>\d+) delegate kernels"
)
_NONE = re.compile(
    r"Though (?P<name>.+?) delegate is explicitly applied, the model graph will not be"
    r" executed by the delegate"
)
_RUNNING = re.compile(r"Running benchmark for at least")


def _num(text: str) -> float:
    return float(text)


@dataclass
class StatLine:
    """One `count=… first=…` line, values in microseconds as printed."""

    count: int
    curr: float
    first: float | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    std: float | None = None
    p5: float | None = None
    median: float | None = None
    p95: float | None = None
    all_same: bool = False

    @classmethod
    def parse(cls, line: str) -> StatLine | None:
        values: dict[str, float] = {}
        all_same = False
        for key, value, same in _STAT_KEY.findall(line):
            values[key] = _num(value)
            all_same = all_same or bool(same)
        if "count" not in values:
            return None
        count = int(values.pop("count"))
        if count == 0:
            return None
        curr = values.pop("curr", None)
        if curr is None:
            return None
        stat = cls(count=count, curr=curr, all_same=all_same, **values)
        if stat.first is None:  # `count=N curr=X` or `… (all same)`: every run took X
            stat.first = stat.min = stat.max = stat.avg = curr
            stat.std = 0.0
        return stat


@dataclass
class BenchmarkOutput:
    warmup: StatLine | None = None
    inference: StatLine | None = None
    init_us: float | None = None
    first_inference_us: float | None = None
    warmup_avg_us: float | None = None
    inference_avg_us: float | None = None
    session_init_ms: float | None = None
    model_size_mb: float | None = None
    memory_init_mb: float | None = None
    memory_overall_mb: float | None = None
    peak_memory_mb: float | None = None
    delegate: str | None = None
    fully_delegated: bool | None = None
    delegate_kernels: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.inference_avg_us is not None or self.inference is not None

    @property
    def error_text(self) -> str:
        """The tool's own error lines, as a participant should read them."""
        return "\n".join(self.errors)

    def to_run_result(self, *, runtime_version: str, raw_log: str) -> RunResult:
        if not self.succeeded:
            raise ValueError("benchmark_model output has no inference timings")
        stat = self.inference
        mean_us = self.inference_avg_us if self.inference_avg_us is not None else stat.avg
        init_us = self.init_us
        if init_us is None and self.session_init_ms is not None:
            init_us = self.session_init_ms * 1000
        first_us = self.first_inference_us
        if first_us is None and self.warmup is not None:
            first_us = self.warmup.first
        peak = self.peak_memory_mb if self.peak_memory_mb is not None else self.memory_overall_mb

        def ms(value):
            return None if value is None else value / 1000.0

        median_us = None
        if stat is not None:
            median_us = (
                stat.median
                if stat.median is not None
                else (stat.curr if stat.all_same or stat.count == 1 else None)
            )
        return RunResult(
            init_ms=ms(init_us),
            first_inference_ms=ms(first_us),
            mean_ms=ms(mean_us),
            median_ms=ms(median_us),
            std_ms=ms(stat.std) if stat else None,
            min_ms=ms(stat.min) if stat else None,
            max_ms=ms(stat.max) if stat else None,
            peak_memory_mb=peak,
            runtime_version=runtime_version,
            raw_log=raw_log,
            count=stat.count if stat else None,
            fully_delegated=self.fully_delegated,
            delegate_kernels=self.delegate_kernels,
        )


def parse_benchmark_output(text: str) -> BenchmarkOutput:
    out = BenchmarkOutput()
    stats: list[tuple[int, StatLine]] = []  # (index of the `Running benchmark` block, stat)
    block = -1
    for raw_line in text.splitlines():
        match = _PREFIX.match(raw_line)
        level = match.group("level")
        line = raw_line[match.end() :].strip()
        if not line:
            continue
        if level == "ERROR":
            out.errors.append(line)
        if _RUNNING.match(line):
            block += 1
            continue
        if line.startswith("count="):
            stat = StatLine.parse(line)
            if stat is not None:
                stats.append((block, stat))
            continue
        if m := _TIMINGS.search(line):
            out.init_us, out.first_inference_us = _num(m["init"]), _num(m["first"])
            out.warmup_avg_us, out.inference_avg_us = _num(m["warmup"]), _num(m["inference"])
        elif m := _OLD_TIMINGS.search(line):
            out.init_us, out.warmup_avg_us = _num(m["init"]), _num(m["warmup"])
            out.inference_avg_us = _num(m["inference"])
        elif m := _INIT_SESSION.search(line):
            out.session_init_ms = _num(m["ms"])
        elif m := _MEM_DELTA.search(line):
            out.memory_init_mb, out.memory_overall_mb = _num(m["init"]), _num(m["overall"])
        elif m := _MEM_PEAK.search(line):
            out.peak_memory_mb = _num(m["mb"])
        elif m := _MODEL_SIZE.search(line):
            out.model_size_mb = _num(m["mb"])
        elif m := _FULL.search(line):
            out.delegate, out.fully_delegated, out.delegate_kernels = m["name"], True, 1
        elif m := _PARTIAL.search(line):
            # Several delegates: the graph is fully delegated only if one of them took all of it.
            if not out.fully_delegated:
                out.delegate, out.fully_delegated = m["name"], False
                out.delegate_kernels = int(m["kernels"])
        elif m := _NONE.search(line):
            if out.fully_delegated is None:
                out.delegate, out.fully_delegated, out.delegate_kernels = m["name"], False, 0
        elif level is None and line.startswith(("Failed", "Benchmarking failed")):
            out.errors.append(line)  # TF 1.x logged errors without a prefix
    if len(stats) >= 2:
        out.warmup, out.inference = stats[0][1], stats[-1][1]
    elif len(stats) == 1:
        block_of, stat = stats[0]
        # A lone line belongs to the warm-up unless it follows the second `Running benchmark`.
        if block_of >= 1:
            out.inference = stat
        else:
            out.warmup = stat
    if out.first_inference_us is None and out.warmup is not None:
        out.first_inference_us = out.warmup.first
    return out
