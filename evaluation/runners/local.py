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
from .base import Accelerator, DeviceInfo, JobTimeout, ModelError, RunOptions, RunResult

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
    ):
        self.slug = slug
        self.memory_limit_mb = memory_limit_mb
        self.max_tensor_bytes = max_tensor_bytes

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
        )


def runner_from_spec(target: str) -> LocalRunner:
    """`local:host-cpu` → the host CPU registered under that slug (default `host-cpu`)."""
    return LocalRunner(slug=target or "host-cpu")
