"""Runners measure a model on one device: `local` (this host's CPU through LiteRT), `adb` (an Android
device through a real adb server, running TFLite's benchmark_model), `ssh` (a Linux board running
litert-benchmark). All share the interface in `base.py`.

A device host names its devices as specs `TRANSPORT:TARGET` (`local:host-cpu`, `adb:SERIAL`,
`ssh:pi@10.0.0.7`); `runner_from_spec` builds the runner. A transport module other than `local` provides
`runner_from_spec(target: str) -> Runner` itself (`evaluation/runners/adb.py`, `…/ssh.py`).
"""

from __future__ import annotations

import importlib

TRANSPORTS = {
    "local": "evaluation.runners.local",
    "adb": "evaluation.runners.adb",
    "ssh": "evaluation.runners.ssh",
}


def runner_from_spec(spec: str):
    transport, _, target = spec.partition(":")
    transport = transport.strip().lower()
    if transport not in TRANSPORTS:
        raise ValueError(
            f"unknown transport {transport!r} in device spec {spec!r}; use one of {sorted(TRANSPORTS)}"
        )
    module = importlib.import_module(TRANSPORTS[transport])
    return module.runner_from_spec(target.strip())
