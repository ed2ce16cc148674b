"""A stand-in sysfs tree for tests: thermal zones and power sensors whose values move with real work.

No test machine exposes a battery gauge, and this one has no thermal zone either, so the runners read
`/sys` under a configurable root (`evaluation.sysfs`) and tests point it at this folder. A thread
updates the files every 20 ms from how many of the processes below `follow_pid` (the sandboxed
benchmark of the local runner, the shell commands of the adb stand-in, an sshd session) are running
(state R, so that the share of this shared machine they get does not matter): the battery current and
the INA sensor's power rise while a model runs, and the thermal zones heat up with the time spent working
and cool back towards ambient when idle. Nothing here is a mock of the
code under test; it replaces the hardware only.

Layout (the kernel's units):
- `sys/class/thermal/thermal_zone{0,1}/{type,temp}`: m°C ("cpu-big", "battery");
- `sys/class/power_supply/battery/{current_now,voltage_now}` (µA, negative while discharging, as many
  Android gauges report; µV) with `battery=True`;
- `sys/class/hwmon/hwmon0/{name,power1_input}` (µW, an INA226 on a board) with `ina=True`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _running(pids: list[int]) -> int:
    """How many of these processes are running or waiting for a CPU (state R) right now: the work the
    "device" is doing, whatever share of this shared machine's CPUs it gets."""
    count = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return count


class FakeSysfs:
    """The tree under `root`; `start()` begins moving the values, `stop()` ends it."""

    def __init__(
        self,
        root: Path,
        *,
        follow_pid: int | None = None,
        battery: bool = True,
        ina: bool = False,
        thermal: bool = True,
        ambient_c: float = 35.0,
        idle_w: float = 0.8,
        watts_per_core: float = 3.0,
        heat_c_per_busy_s: float = 4.0,
    ):
        self.root = Path(root)
        self.follow_pid = follow_pid or os.getpid()
        self.battery, self.ina, self.thermal = battery, ina, thermal
        self.ambient_c, self.idle_w = ambient_c, idle_w
        self.watts_per_core, self.heat_c_per_busy_s = watts_per_core, heat_c_per_busy_s
        self.temp_c = ambient_c
        self.voltage_v = 4.0
        self.history: list[tuple[float, float]] = []  # (temp °C, power W) at each update
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-sysfs", daemon=True)
        self._write(0.0)

    @property
    def sys(self) -> Path:
        return self.root / "sys" / "class"

    def _put(self, path: Path, value) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(f"{value}\n")
        tmp.replace(path)  # readers never see a half-written value

    def _write(self, busy_cores: float) -> None:
        power = self.idle_w + self.watts_per_core * busy_cores
        if self.thermal:
            for index, (name, offset) in enumerate((("cpu-big", 0.0), ("battery", -4.0))):
                zone = self.sys / "thermal" / f"thermal_zone{index}"
                self._put(zone / "type", name)
                self._put(zone / "temp", int((self.temp_c + offset) * 1000))
        if self.battery:
            supply = self.sys / "power_supply" / "battery"
            self._put(supply / "current_now", -int(power / self.voltage_v * 1e6))
            self._put(supply / "voltage_now", int(self.voltage_v * 1e6))
        if self.ina:
            hwmon = self.sys / "hwmon" / "hwmon0"
            self._put(hwmon / "name", "ina226")
            self._put(hwmon / "power1_input", int(power * 1e6))
        self.history.append((self.temp_c, power))

    def _busy_cores(self) -> float:
        return float(_running(_descendants(self.follow_pid)))

    def _run(self) -> None:
        interval = 0.02
        while not self._stop.wait(interval):
            busy = self._busy_cores()
            # Heats with the work done, cools exponentially (time constant ~1 s) towards ambient.
            self.temp_c += (
                self.heat_c_per_busy_s * busy * interval - (self.temp_c - self.ambient_c) * interval
            )
            self._write(busy)

    def start(self) -> FakeSysfs:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def __enter__(self) -> FakeSysfs:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
