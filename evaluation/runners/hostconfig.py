"""Device-host configuration for the `adb` and `ssh` runners: what the operator registers per device.

A device worker names devices as specs (`adb:SERIAL`, `ssh:USER@HOST[:PORT]`, see
`evaluation.runners.runner_from_spec`). The settings of each come from, in increasing priority:
1. the TOML file named by `DEVICE_HOST_CONFIG` (default: none), tables `[adb]` / `[ssh]` for every
   device of a transport and `[adb."SERIAL"]` / `[ssh."USER@HOST:PORT"]` for one device:

       [adb]
       benchmark_model = "/opt/mai/android_aarch64_benchmark_model"
       accelerators = ["cpu", "xnnpack", "gpu", "nnapi"]

       [adb."R5CR10ABCDE"]
       slug = "exynos-2100"
       big_cores = "80"            # taskset mask of the big core(s)

       [ssh."pi@10.0.0.7"]
       key = "/etc/mai/keys/pi4"
       known_hosts = "/etc/mai/known_hosts"
       litert_benchmark = "/home/pi/litert/bin/litert-benchmark"

2. options in the spec itself, after `?`: `adb:R5CR10ABCDE?accelerators=cpu,gpu&slug=exynos-2100`.
List-valued keys (`accelerators`) take comma-separated strings in a spec.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl

from evaluation.runners.base import Accelerator

LIST_KEYS = {"accelerators"}


def load_config(path: str | os.PathLike | None = None) -> dict:
    path = path or os.environ.get("DEVICE_HOST_CONFIG", "")
    if not path:
        return {}
    try:
        with open(Path(path), "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"DEVICE_HOST_CONFIG names a file that does not exist: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None


def device_settings(transport: str, target: str, *, config: dict | None = None) -> tuple[str, dict]:
    """Splits `target` into the device's name and its merged settings (see the module docstring)."""
    name, _, query = target.partition("?")
    config = load_config() if config is None else config
    section = dict(config.get(transport, {}))
    per_device = {key: value for key, value in section.items() if isinstance(value, dict)}
    merged = {key: value for key, value in section.items() if not isinstance(value, dict)}
    merged.update(per_device.get(name, {}))
    for key, value in parse_qsl(query, keep_blank_values=True):
        merged[key] = [v for v in value.split(",") if v] if key in LIST_KEYS else value
    return name, merged


def check_device_settings(
    transport: str, name: str, settings: dict, *, known: set[str], required: str, required_hint: str
) -> None:
    """Refuses unknown or missing settings of one device with a message for the operator, and checks
    (in place) its `accelerators` list against the accelerators the runners know."""
    unknown = set(settings) - known
    if unknown:
        raise ValueError(f"unknown {transport} device settings {sorted(unknown)}; known: {sorted(known)}")
    if not settings.get(required):
        raise ValueError(
            f"{transport} device {name}: set {required} ({required_hint}) in DEVICE_HOST_CONFIG or the spec"
        )
    bad = [a for a in settings.get("accelerators") or [] if a not in Accelerator.ALL]
    if bad:
        raise ValueError(f"{transport} device {name}: unknown accelerators {bad}; use {Accelerator.ALL}")
