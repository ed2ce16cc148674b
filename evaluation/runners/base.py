"""The runner interface every transport implements, with plain inputs and outputs (no database).

A device worker turns a queued job into `RunOptions`, calls `Runner.run`, and reports the `RunResult`
(or the error's message) back to the site. Errors are split into the participant's fault (`ModelError`:
the job fails with that message) and the device's (`DeviceUnavailable`: the job is retried on the same
device when it returns or on a twin, and never counted twice)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol


class Accelerator:
    CPU = "cpu"
    XNNPACK = "xnnpack"
    GPU = "gpu"
    NNAPI = "nnapi"
    HEXAGON = "hexagon"
    NPU = "npu"  # vendor NPU through an external delegate

    ALL = [CPU, XNNPACK, GPU, NNAPI, HEXAGON, NPU]
    LABELS = {
        CPU: "CPU",
        XNNPACK: "CPU (XNNPACK)",
        GPU: "GPU",
        NNAPI: "NNAPI",
        HEXAGON: "Hexagon DSP",
        NPU: "NPU (external delegate)",
    }


@dataclass
class RunOptions:
    accelerator: str = Accelerator.CPU
    threads: int = 1
    warmup_runs: int = 1
    timed_runs: int = 20
    time_limit_s: float = 300.0
    pin_big_cores: bool = False
    # Shapes to resize dynamic inputs to before allocation, e.g. {0: [1, 544, 960, 4]}.
    input_shapes: dict[int, list[int]] = field(default_factory=dict)
    require_full_delegation: bool = False
    # Real values generated inputs are drawn from (the track's declared range); None: [0, 255] for
    # float inputs, the dtype's full range for integer ones.
    input_range: list[float] | None = None
    # The repeatable protocol: warm-up, then `timed_runs` timed runs, repeated `repetitions` times with a
    # cool-down between repetitions (until the hottest thermal zone is under `cooldown_threshold_c`, at
    # most `cooldown_max_s`; a fixed `cooldown_pause_s` where the device has no thermal sensor).
    repetitions: int = 1
    cooldown_pause_s: float = 1.0
    cooldown_threshold_c: float = 45.0
    cooldown_max_s: float = 60.0
    # A per-operator profile after the timed runs (evaluation.profiling); it does not change the timings.
    profile: bool = False
    profile_rounds: int = 10


@dataclass
class RunResult:
    init_ms: float | None
    first_inference_ms: float | None
    mean_ms: float
    median_ms: float | None
    std_ms: float | None
    min_ms: float | None
    max_ms: float | None
    peak_memory_mb: float | None
    runtime_version: str
    raw_log: str = ""
    count: int | None = None
    fully_delegated: bool | None = None
    delegate_kernels: int | None = None
    power_w: float | None = None
    # Measurement depth (all optional: a runner fills what its device can tell).
    p5_ms: float | None = None
    p95_ms: float | None = None
    timings_ms: list[float] | None = None  # every timed run of every repetition, in order
    repetitions: list[dict] | None = None  # per repetition: n, mean/median/std/min/max, thermal, cool-down
    profile: dict | None = None  # evaluation.profiling
    power: dict | None = None  # evaluation.sysfs.power_summary
    energy_mj: float | None = None
    thermal_source: str | None = None  # "thermal_zone", "hwmon" or "" (no sensor)
    reproducibility: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class DeviceInfo:
    """What a runner finds out about the device it drives, for registration."""

    slug: str
    name: str
    platform: str  # "linux", "android"
    soc: str
    transport: str  # "local", "adb", "ssh"
    accelerators: list[str]
    details: dict = field(default_factory=dict)


class RunnerError(Exception):
    """Base: `message` is shown to the participant as is."""

    def __init__(self, message: str, *, log: str = ""):
        super().__init__(message)
        self.message = message
        self.log = log


class ModelError(RunnerError):
    """The model (or the chosen options) cannot run: the job fails with this message."""


class JobTimeout(ModelError):
    """The run exceeded the job's time limit and was stopped."""


class DeviceUnavailable(RunnerError):
    """The device went away (unplugged, unreachable, out of space…): retry, do not fail the job."""


class Runner(Protocol):
    def probe(self) -> DeviceInfo: ...

    def run(self, model_path: Path, options: RunOptions) -> RunResult: ...


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reproducibility_record(model_path: Path, options: RunOptions, *, input_shapes: list, **setup) -> dict:
    """What another person needs to reproduce a measurement: the runner's `setup` as it knows it
    (device, SoC, OS build, tool and versions, delegate and its options), then the protocol of
    `options`, the input shapes run, the model's SHA-256 and the date (UTC)."""
    return {
        **setup,
        "threads": options.threads,
        "warmup_runs": options.warmup_runs,
        "timed_runs": options.timed_runs,
        "repetitions": options.repetitions,
        "input_shapes": input_shapes,
        "model_sha256": file_sha256(model_path),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
