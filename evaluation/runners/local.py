"""The `local` runner: this host's CPU through LiteRT (`ai_edge_litert.interpreter.Interpreter`), with
XNNPACK (`xnnpack`) or LiteRT's plain built-in kernels (`cpu`).

Every run happens in the sandbox (`common.sandbox`): a child process with an address-space limit and
a wall-clock watchdog at the job's time limit, so a model that crashes LiteRT, eats memory or runs for
hours ends as a `ModelError`/`JobTimeout` and the worker serves the next job. The measurement protocol is
the TFLite benchmark tool's (see `_sandbox_child.benchmark`). No Django here.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

from ..tflite import LITERT_ADDRESS_SPACE_MB, explain_load_error, explain_memory_refusal
from .base import (
    Accelerator,
    DeviceInfo,
    JobTimeout,
    ModelError,
    RunOptions,
    RunResult,
    reproducibility_record,
)

DEFAULT_MAX_TENSOR_BYTES = 2 * 2**30


def cpu_model_name() -> str:
    """The CPU's marketing name from /proc/cpuinfo ("model name", or "Hardware"/"Model" on ARM boards)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return " ".join(value.split())
    return platform.processor() or platform.machine() or "Unknown CPU"


class LocalRunner:
    transport = "local"

    def __init__(
        self,
        slug: str = "host-cpu",
        *,
        memory_limit_mb: int = 4096,
        max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES,
        sysfs_root: str | None = None,
    ):
        self.slug = slug
        self.memory_limit_mb = memory_limit_mb
        self.max_tensor_bytes = max_tensor_bytes
        # Where /sys is read from (thermal zones, power sensors): "" on a real host; tests point it at a
        # fake tree. `DEVICE_SYSFS_ROOT` when not given.
        self.sysfs_root = os.environ.get("DEVICE_SYSFS_ROOT", "") if sysfs_root is None else sysfs_root

    def probe(self) -> DeviceInfo:
        cpu = cpu_model_name()
        cores = os.cpu_count() or 1
        return DeviceInfo(
            slug=self.slug,
            name=f"Host CPU: {cpu}",
            platform="linux",
            soc=cpu,
            transport="local",
            accelerators=[Accelerator.CPU, Accelerator.XNNPACK],
            details={
                "cores": cores,
                "machine": platform.machine(),
                "kernel": platform.release(),
                "hostname": platform.node(),
            },
        )

    def run(self, model_path: Path, options: RunOptions) -> RunResult:
        if options.accelerator not in (Accelerator.CPU, Accelerator.XNNPACK):
            raise ModelError(
                f"This device has no {Accelerator.LABELS.get(options.accelerator, options.accelerator)}"
                " accelerator; it offers CPU and CPU (XNNPACK)."
            )
        request = {
            "model_path": str(model_path),
            "accelerator": options.accelerator,
            "threads": options.threads,
            "warmup_runs": options.warmup_runs,
            "timed_runs": options.timed_runs,
            "max_tensor_bytes": self.max_tensor_bytes,
            "input_shapes": {str(k): v for k, v in (options.input_shapes or {}).items()},
            "input_range": options.input_range,
            "repetitions": options.repetitions,
            "cooldown_pause_s": options.cooldown_pause_s,
            "cooldown_threshold_c": options.cooldown_threshold_c,
            "cooldown_max_s": options.cooldown_max_s,
            "sysfs_root": self.sysfs_root,
        }
        try:
            result, log = run_sandboxed(
                "evaluation._sandbox_child:benchmark",
                request,
                time_limit_s=options.time_limit_s,
                memory_limit_mb=LITERT_ADDRESS_SPACE_MB + self.memory_limit_mb,
            )
        except SandboxTimeout as exc:
            raise JobTimeout(
                f"The model was stopped at the job's time limit of {options.time_limit_s:g} s "
                f"({options.warmup_runs} warm-up and {options.timed_runs} timed runs did not "
                "finish). Make it faster, or ask for fewer runs.",
                log=exc.log,
            ) from None
        except SandboxCrash as exc:
            hint = (
                "it ran out of memory"
                if exc.signal_name in ("SIGKILL", "SIGABRT")
                else "the model is malformed"
            )
            raise ModelError(
                f"LiteRT crashed while running this model ({exc.signal_name}): {hint}.", log=exc.log
            ) from None
        except SandboxError as exc:
            raise ModelError(explain_load_error(exc.error_type, exc.message), log=exc.log) from None
        if result.get("refusal"):
            raise ModelError(explain_memory_refusal(result["refusal"], self.max_tensor_bytes))
        raw_log = result["raw_log"] + ("\n\n" + log.strip() if log.strip() else "")
        profile = self._profile(request, options) if options.profile else None
        power = result.get("power") or None
        return RunResult(
            init_ms=result["init_ms"],
            first_inference_ms=result["first_inference_ms"],
            mean_ms=result["mean_ms"],
            median_ms=result["median_ms"],
            std_ms=result["std_ms"],
            min_ms=result["min_ms"],
            max_ms=result["max_ms"],
            peak_memory_mb=result["peak_memory_mb"],
            runtime_version=result["runtime_version"]
            + (" + XNNPACK" if options.accelerator == "xnnpack" else ""),
            raw_log=raw_log,
            count=result["count"],
            fully_delegated=None,
            p5_ms=result["p5_ms"],
            p95_ms=result["p95_ms"],
            timings_ms=result["timings_ms"],
            repetitions=result["repetitions"],
            profile=profile,
            power=power,
            power_w=(power or {}).get("power_w"),
            energy_mj=(power or {}).get("energy_mj"),
            thermal_source=result["thermal_source"],
            reproducibility=self._reproducibility(model_path, options, result),
        )

    def _profile(self, request: dict, options: RunOptions) -> dict:
        """The per-operator profile, in its own sandboxed run after the timed runs: a model that the
        profiler cannot take apart (or that crashes it) keeps its measurement, with the reason."""
        try:
            profile, _ = run_sandboxed(
                "evaluation._sandbox_child:profile",
                dict(request, rounds=options.profile_rounds),
                time_limit_s=options.time_limit_s,
                memory_limit_mb=LITERT_ADDRESS_SPACE_MB + self.memory_limit_mb,
            )
        except SandboxTimeout:
            return {"error": f"The profile did not finish within {options.time_limit_s:g} s."}
        except SandboxCrash as exc:
            return {"error": f"LiteRT crashed while profiling this model ({exc.signal_name})."}
        except SandboxError as exc:
            return {"error": f"This model could not be profiled one operator at a time: {exc.message}"}
        return profile

    def _reproducibility(self, model_path: Path, options: RunOptions, result: dict) -> dict:
        """What another person needs to reproduce the measurement."""
        info = self.probe()
        return reproducibility_record(
            model_path,
            options,
            device=info.name,
            soc=info.soc,
            os_build=f"{platform.system()} {platform.release()} ({platform.version()})",
            tool="LiteRT Interpreter (mai local runner, TFLite benchmark protocol)",
            litert_version=result.get("litert_version", ""),
            delegate="XNNPACK" if options.accelerator == Accelerator.XNNPACK else "none (built-in kernels)",
            delegate_options={},
            input_shapes=result.get("input_shapes_run") or [],
        )


def runner_from_spec(target: str) -> LocalRunner:
    """`local:host-cpu` → the host CPU registered under that slug (default `host-cpu`)."""
    return LocalRunner(slug=target or "host-cpu")
