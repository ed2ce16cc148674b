"""Thermal zones and power sensors of a device, read from sysfs under a configurable root (stdlib only;
the device worker and the sandbox child use it).

Every path is `<root>/sys/...`: the root is "" on a real device, and a folder in tests, where the adb
stand-in device and the sshd test host expose fake sysfs trees whose values move during a run
(`DEVICE_SYSFS_ROOT` for the local runner, `sysfs_root` per device in the host configuration).

- Temperatures: `/sys/class/thermal/thermal_zone*/{type,temp}` (m°C), else hwmon
  `/sys/class/hwmon/hwmon*/{name,temp*_input}` (m°C). A host without either says so
  (`{"zones": [], "source": ""}`).
- Power: a battery gauge `/sys/class/power_supply/*/{current_now (µA), voltage_now (µV)}` (Android; the
  sign of current_now differs between vendors, so its magnitude is used), or an hwmon/INA sensor
  `/sys/class/hwmon/hwmon*/power*_input` (µW), or `curr*_input` (mA) with `in*_input` (mV).

For remote devices the same reads are done by shell commands (`thermal_command`, `power_command`) whose
output `parse_thermal` / `parse_power_samples` read.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from pathlib import Path

THERMAL_GLOB = "sys/class/thermal/thermal_zone*"
HWMON_GLOB = "sys/class/hwmon/hwmon*"
SUPPLY_GLOB = "sys/class/power_supply/*"


def _root(root: str | None) -> str:
    return (root or "").rstrip("/")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def read_thermal(root: str | None = "") -> dict:
    """{"source": "thermal_zone" | "hwmon" | "", "zones": [{"name", "temp_c"}]} at this instant."""
    base = _root(root)
    zones = []
    for zone in sorted(glob.glob(f"{base}/{THERMAL_GLOB}")):
        value = _number(_read(f"{zone}/temp"))
        if value is not None:
            zones.append({"name": _read(f"{zone}/type") or os.path.basename(zone), "temp_c": value / 1000.0})
    if zones:
        return {"source": "thermal_zone", "zones": zones}
    for hwmon in sorted(glob.glob(f"{base}/{HWMON_GLOB}")):
        name = _read(f"{hwmon}/name") or os.path.basename(hwmon)
        for sensor in sorted(glob.glob(f"{hwmon}/temp*_input")):
            value = _number(_read(sensor))
            if value is not None:
                label = Path(sensor).name.removesuffix("_input")
                zones.append({"name": f"{name}/{label}", "temp_c": value / 1000.0})
    return {"source": "hwmon" if zones else "", "zones": zones}


def hottest(reading: dict | None) -> float | None:
    temps = [z["temp_c"] for z in (reading or {}).get("zones", []) if z.get("temp_c") is not None]
    return max(temps) if temps else None


def power_sources(root: str | None = "") -> list[dict]:
    """The power sensors this device exposes: [{"kind", "files"}], best first."""
    base = _root(root)
    found = []
    for supply in sorted(glob.glob(f"{base}/{SUPPLY_GLOB}")):
        current, voltage = f"{supply}/current_now", f"{supply}/voltage_now"
        if os.path.exists(current) and os.path.exists(voltage):
            found.append({"kind": "battery", "name": os.path.basename(supply), "files": [current, voltage]})
    for hwmon in sorted(glob.glob(f"{base}/{HWMON_GLOB}")):
        name = _read(f"{hwmon}/name") or os.path.basename(hwmon)
        for sensor in sorted(glob.glob(f"{hwmon}/power*_input")):
            found.append({"kind": "hwmon_power", "name": name, "files": [sensor]})
        currents = sorted(glob.glob(f"{hwmon}/curr*_input"))
        volts = sorted(glob.glob(f"{hwmon}/in*_input"))
        if currents and volts:
            found.append({"kind": "hwmon_iv", "name": name, "files": [currents[0], volts[-1]]})
    return found


def watts(kind: str, values: list[float]) -> float | None:
    """Power in W from one reading of a source's files."""
    if any(v is None for v in values):
        return None
    if kind == "battery":  # µA × µV
        return abs(values[0]) * values[1] / 1e12
    if kind == "hwmon_power":  # µW
        return values[0] / 1e6
    if kind == "hwmon_iv":  # mA × mV
        return abs(values[0]) * values[1] / 1e6
    return None


def read_power(source: dict) -> float | None:
    return watts(source["kind"], [_number(_read(f)) for f in source["files"]])


class PowerSampler:
    """Samples one power source every `interval_s` in a thread while a `with` block runs."""

    def __init__(self, source: dict, interval_s: float = 0.02):
        self.source, self.interval_s = source, interval_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="power-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            value = read_power(self.source)
            if value is not None:
                self.samples.append(value)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> PowerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def idle_power(source: dict, *, seconds: float = 0.5, interval_s: float = 0.02) -> list[float]:
    """The idle baseline: samples for `seconds` while nothing runs."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = read_power(source)
        if value is not None:
            samples.append(value)
        time.sleep(interval_s)
    return samples


def power_summary(source: dict, baseline: list[float], during: list[float], mean_ms: float | None) -> dict:
    """Average power above the idle baseline (W) and energy per inference (mJ = W × ms)."""
    if not baseline or not during:
        return {"source": source.get("kind"), "sensor": source.get("name"), "error": "no samples"}
    idle = sum(baseline) / len(baseline)
    load = sum(during) / len(during)
    above = max(0.0, load - idle)
    return {
        "source": source.get("kind"),
        "sensor": source.get("name"),
        "estimated": "estimated from the battery gauge"
        if source.get("kind") == "battery"
        else "estimated from the board's power sensor",
        "idle_w": idle,
        "load_w": load,
        "power_w": above,
        "energy_mj": above * mean_ms if mean_ms is not None else None,
        "samples": len(during),
        "baseline_samples": len(baseline),
    }


def cool_down(
    root: str | None,
    *,
    threshold_c: float,
    pause_s: float,
    max_wait_s: float,
    poll_s: float = 0.25,
) -> dict:
    """Between repetitions: waits until the hottest zone is under `threshold_c` (at most `max_wait_s`),
    or a fixed `pause_s` where the device has no thermal sensor. Returns what was done."""
    started = time.monotonic()
    reading = read_thermal(root)
    if hottest(reading) is None:
        time.sleep(pause_s)
        return {"kind": "pause", "waited_s": round(time.monotonic() - started, 3)}
    while hottest(reading) is not None and hottest(reading) >= threshold_c:
        if time.monotonic() - started >= max_wait_s:
            return {"kind": "threshold", "waited_s": round(time.monotonic() - started, 3), "reached": False}
        time.sleep(poll_s)
        reading = read_thermal(root)
    return {"kind": "threshold", "waited_s": round(time.monotonic() - started, 3), "reached": True}
