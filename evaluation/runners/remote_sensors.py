"""Thermal zones, power sensors and repetitions on a remote device (a phone over adb, a board over SSH),
read with shell commands through the runner's own `shell(command, timeout) -> (status, output)`. The same
sysfs files and units as `evaluation.sysfs`, under the device's configured `sysfs_root` ("" on real
hardware). No Django.

- `DeviceSensors.thermal()`: `{"source", "zones": [{"name", "temp_c"}]}`, from one shell command;
- `power_source()`: the battery gauge (`current_now` + `voltage_now`) or an hwmon/INA sensor;
- `idle_power(source)`: ~0.5 s of samples before the first repetition (the idle baseline);
- `sampler_script(source, path, command)`: the command with a background loop on the device writing one
  sample every 50 ms to `path` while the benchmark runs, read back by `read_samples`;
- `cool_down(options)`: between repetitions, polls the zones until the hottest is under the threshold (or
  the maximum wait), or sleeps the fixed pause where the device has no sensor;
- `repetition_entry` and `combine_repetitions`: one `RunResult` from the tool's runs, mean and standard
  deviation pooled exactly from each repetition's count, mean and deviation.
"""

from __future__ import annotations

import shlex
import time

from evaluation import stats, sysfs
from evaluation.profiling import parse_op_profile
from evaluation.runners.base import RunOptions, RunResult

SAMPLE_S = 0.05


class DeviceSensors:
    def __init__(self, shell, root: str = ""):
        self.shell = shell
        self.root = (root or "").rstrip("/")

    def _q(self, path: str) -> str:
        return shlex.quote(f"{self.root}/{path}") if self.root else f"/{path}"

    def thermal(self) -> dict:
        base = f"{self.root}/sys/class/thermal" if self.root else "/sys/class/thermal"
        command = (
            f'for z in {shlex.quote(base)}/thermal_zone*; do [ -r "$z/temp" ] && '
            'echo "$(cat "$z/temp" 2>/dev/null) $(cat "$z/type" 2>/dev/null)"; done 2>/dev/null; true'
        )
        try:
            _, out = self.shell(command, timeout=15)
        except Exception:  # noqa: BLE001 - a reading we cannot take is shown as "no sensor"
            return {"source": "", "zones": []}
        zones = []
        for line in out.splitlines():
            value, _, name = line.strip().partition(" ")
            try:
                zones.append({"name": name or "zone", "temp_c": float(value) / 1000.0})
            except ValueError:
                continue
        return {"source": "thermal_zone" if zones else "", "zones": zones}

    def power_source(self) -> dict | None:
        supply = f"{self.root}/sys/class/power_supply" if self.root else "/sys/class/power_supply"
        hwmon = f"{self.root}/sys/class/hwmon" if self.root else "/sys/class/hwmon"
        command = (
            f'for s in {shlex.quote(supply)}/*; do [ -r "$s/current_now" ] && [ -r "$s/voltage_now" ] && '
            'echo "battery ${s##*/} $s/current_now $s/voltage_now"; done 2>/dev/null; '
            f'for h in {shlex.quote(hwmon)}/hwmon*; do for p in "$h"/power*_input; do [ -r "$p" ] && '
            'echo "hwmon_power $(cat "$h/name" 2>/dev/null || echo hwmon) $p"; done; done 2>/dev/null; true'
        )
        try:
            _, out = self.shell(command, timeout=15)
        except Exception:  # noqa: BLE001
            return None
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] in ("battery", "hwmon_power"):
                return {"kind": parts[0], "name": parts[1], "files": parts[2:]}
        return None

    def idle_power(self, source: dict, samples: int = 10) -> list[float]:
        files = " ".join(shlex.quote(f) for f in source["files"])
        command = f"for i in $(seq {samples}); do echo $(cat {files}); sleep {SAMPLE_S}; done 2>/dev/null"
        _, out = self.shell(command, timeout=30)
        return _watts(source, out)

    def read_samples(self, path: str, source: dict) -> list[float]:
        _, out = self.shell(f"cat {shlex.quote(path)} 2>/dev/null; rm -f {shlex.quote(path)}", timeout=30)
        return _watts(source, out)

    def cool_down(self, options: RunOptions, poll_s: float = 0.5) -> dict:
        started = time.monotonic()
        reading = self.thermal()
        if sysfs.hottest(reading) is None:
            self.shell(f"sleep {float(options.cooldown_pause_s):g}", timeout=options.cooldown_pause_s + 30)
            return {"kind": "pause", "waited_s": round(time.monotonic() - started, 3)}
        while (sysfs.hottest(reading) or 0.0) >= options.cooldown_threshold_c:
            if time.monotonic() - started >= options.cooldown_max_s:
                return {
                    "kind": "threshold",
                    "waited_s": round(time.monotonic() - started, 3),
                    "reached": False,
                }
            time.sleep(poll_s)
            reading = self.thermal()
        return {"kind": "threshold", "waited_s": round(time.monotonic() - started, 3), "reached": True}


def _watts(source: dict, text: str) -> list[float]:
    values = []
    for line in text.splitlines():
        try:
            numbers = [float(v) for v in line.split()]
        except ValueError:
            continue
        if len(numbers) == len(source["files"]):
            value = sysfs.watts(source["kind"], numbers)
            if value is not None:
                values.append(value)
    return values


def sampler_script(source: dict, path: str, command: str) -> str:
    """`command` with a power sampler running beside it in the background; the exit status is the
    command's."""
    files = " ".join(shlex.quote(f) for f in source["files"])
    loop = f"while true; do echo $(cat {files}); sleep {SAMPLE_S}; done"
    return (
        f"( {loop} ) > {shlex.quote(path)} 2>/dev/null & sampler=$!; {command}; "
        "status=$?; kill $sampler 2>/dev/null; wait $sampler 2>/dev/null; (exit $status)"
    )


def repetition_entry(index: int, result: RunResult, *, before: dict, after: dict, cooldown) -> dict:
    return {
        "index": index + 1,
        "n": result.count,
        "mean_ms": result.mean_ms,
        "median_ms": result.median_ms,
        "std_ms": result.std_ms,
        "min_ms": result.min_ms,
        "max_ms": result.max_ms,
        "thermal_before": before,
        "thermal_after": after,
        "cooldown": cooldown,
    }


def combine_repetitions(
    outputs: list[tuple[RunResult, str, str]],
    repetitions: list[dict],
    *,
    power: dict | None,
    reproducibility: dict,
) -> RunResult:
    """One result from the tool's repetitions: init and first inference from the first run; mean and
    standard deviation pooled over every timed run; min and max over all; the median (and p5/p95) only
    where a single repetition ran (the tool reports no single runs to merge); the op profile of the last
    run; the raw logs one after the other."""
    first = outputs[0][0]
    if len(outputs) == 1:
        combined = first
    else:
        parts = [
            {"n": r["n"], "mean_ms": r["mean_ms"], "std_ms": _sample_std(r["std_ms"], r["n"])}
            for r in repetitions
            if r["n"] and r["mean_ms"] is not None
        ]
        summary = stats.pooled(parts) or {}
        combined = RunResult(**{**first.as_dict()})
        combined.mean_ms = summary.get("mean", first.mean_ms)
        combined.std_ms = summary.get("std", first.std_ms)
        combined.median_ms = None
        combined.min_ms = min((r.min_ms for r, _, _ in outputs if r.min_ms is not None), default=None)
        combined.max_ms = max((r.max_ms for r, _, _ in outputs if r.max_ms is not None), default=None)
        combined.count = sum(r["n"] or 0 for r in repetitions)
        combined.peak_memory_mb = max((r.peak_memory_mb or 0.0 for r, _, _ in outputs), default=None)
    combined.raw_log = "\n\n".join(f"# repetition {i + 1}\n{log}" for i, (_, log, _) in enumerate(outputs))
    combined.repetitions = repetitions
    combined.profile = parse_op_profile(outputs[-1][2])
    combined.thermal_source = repetitions[0]["thermal_before"].get("source", "")
    if power:
        mean = combined.mean_ms
        power = dict(
            power, energy_mj=power["power_w"] * mean if power.get("power_w") is not None and mean else None
        )
        combined.power, combined.power_w, combined.energy_mj = (
            power,
            power.get("power_w"),
            power.get("energy_mj"),
        )
    combined.reproducibility = reproducibility
    return combined


def _sample_std(population_std: float | None, n: int | None) -> float:
    """The tool prints the population deviation; the pooled formula wants n − 1."""
    if not population_std or not n or n < 2:
        return 0.0
    return float(population_std) * (n / (n - 1)) ** 0.5
