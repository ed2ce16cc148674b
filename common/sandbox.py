"""The one sandbox: every untrusted input (models, PDFs, archives) is opened only in a child process.

`run_sandboxed("package.module:function", request, time_limit_s=…, memory_limit_mb=…)` starts
`_sandbox_launcher.py` with Python's isolated mode in a new session, and the launcher, before it
imports anything of the project, caps the address space (RLIMIT_AS = `memory_limit_mb`), turns off
core dumps, asks to be killed with its parent (PR_SET_PDEATHSIG, checked against the parent's pid to
close the race) and takes a network namespace of its own where the kernel allows it. Then it calls
`function(request) -> dict`; the function's module must not import Django. The parent waits with a
wall-clock watchdog (calling `on_poll()` about every 0.1 s, e.g. to read progress) and kills the whole
process group at the time limit.

The outcome is the function's dict, or one of `SandboxTimeout`, `SandboxCrash` (killed by a signal:
SIGSEGV in LiteRT or pdfium, SIGKILL by the OOM killer), `SandboxError` (the function raised: its type
and text). Every failure carries the child's log. None of them harms the caller.

No `preexec_fn` (it can deadlock a threaded parent: gunicorn threads, Celery): the child limits itself
first thing. Plain Python, no Django: the device worker and the scoring workers use it alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LAUNCHER = Path(__file__).with_name("_sandbox_launcher.py")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.1


class SandboxFailure(Exception):
    def __init__(self, message: str, *, log: str = ""):
        super().__init__(message)
        self.message = message
        self.log = log


class SandboxTimeout(SandboxFailure):
    pass


class SandboxCrash(SandboxFailure):
    def __init__(self, message: str, *, signal_name: str, log: str = ""):
        super().__init__(message, log=log)
        self.signal_name = signal_name


class SandboxError(SandboxFailure):
    def __init__(self, message: str, *, error_type: str, log: str = ""):
        super().__init__(message, log=log)
        self.error_type = error_type


def run_sandboxed(
    target: str,
    request: dict,
    *,
    time_limit_s: float,
    memory_limit_mb: int,
    env: dict | None = None,
    on_poll: Callable[[], None] | None = None,
    isolate_network: bool = True,
) -> tuple[dict, str]:
    """Runs `target` ("package.module:function") on `request` in the sandbox; returns (result, log)."""
    with tempfile.TemporaryDirectory(prefix="mai-sandbox-") as tmp:
        spec = {
            "target": target,
            "project_root": str(PROJECT_ROOT),
            "request_path": str(Path(tmp) / "request.json"),
            "result_path": str(Path(tmp) / "result.json"),
            "address_space_bytes": int(memory_limit_mb) * 2**20,
            "parent_pid": os.getpid(),
            "isolate_network": isolate_network,
        }
        Path(spec["request_path"]).write_text(json.dumps(request))
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        log_path = Path(tmp) / "log.txt"
        child_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(env or {}),
        }
        started = time.monotonic()
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(LAUNCHER), str(spec_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=tmp,
                env=child_env,
                start_new_session=True,
                close_fds=True,
            )
            try:
                _wait(proc, time_limit_s, on_poll)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise SandboxTimeout(f"stopped after {time_limit_s:g} s", log=_read_log(log_path)) from None
            finally:
                if proc.poll() is None:
                    _kill_group(proc)
        elapsed = time.monotonic() - started
        log = _read_log(log_path)
        if on_poll is not None:
            on_poll()  # the run may have ended between two polls
        result_path = Path(spec["result_path"])
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            raise SandboxCrash(
                f"the process crashed ({name}) after {elapsed:.1f} s", signal_name=name, log=log
            )
        if not result_path.exists():
            raise SandboxCrash(
                f"the process exited with status {proc.returncode} without a result",
                signal_name=f"exit {proc.returncode}",
                log=log,
            )
        payload = json.loads(result_path.read_text())
        if not payload.get("ok"):
            raise SandboxError(payload.get("detail", ""), error_type=payload.get("error", "Error"), log=log)
        return payload["result"], log


def _wait(proc: subprocess.Popen, time_limit_s: float, on_poll: Callable[[], None] | None) -> None:
    if on_poll is None:
        proc.wait(timeout=time_limit_s)
        return
    deadline = time.monotonic() + time_limit_s
    while True:
        try:
            proc.wait(timeout=POLL_S)
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise
            on_poll()


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _read_log(path: Path, limit: int = 20000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")
