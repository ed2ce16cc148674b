"""The sandbox: every untrusted .tflite is opened only in a child process, never in a worker or web process.

`sandbox_run(mode, request, time_limit_s=…, memory_limit_mb=…)` starts `_sandbox_child.py` with Python's
isolated mode, an address-space limit (RLIMIT_AS), no core dumps, a new session, death with its parent
(PR_SET_PDEATHSIG) and, where the kernel lets an unprivileged process do it, no network (a fresh network
namespace). A wall-clock watchdog kills the whole process group at the time limit. The outcome is one of:
a result dict, `SandboxTimeout`, `SandboxCrash` (killed by a signal: SIGSEGV in LiteRT, SIGKILL by the OOM
killer) or `SandboxError` (LiteRT raised; the exception's type and text). None of them harms the caller.

Plain Python, no Django: the device worker uses it too.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = Path(__file__).with_name("_sandbox_child.py")
# Python + numpy + LiteRT + XNNPACK's arenas reserve ~1.2 GB of address space before any model.
RUNTIME_ADDRESS_SPACE_MB = 1536
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


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


def _limit_child(memory_limit_mb: int):
    def apply():  # runs in the forked child before exec: keep it to system calls
        os.environ.pop("PYTHONPATH", None)
        limit = (RUNTIME_ADDRESS_SPACE_MB + memory_limit_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the worker
            # A network namespace of its own (no interfaces but a down loopback); best effort: needs
            # root or unprivileged user namespaces, otherwise the child keeps the host's network.
            if libc.unshare(CLONE_NEWNET) != 0:
                libc.unshare(CLONE_NEWUSER | CLONE_NEWNET)
        except OSError:
            pass

    return apply


def sandbox_run(
    mode: str, request: dict, *, time_limit_s: float, memory_limit_mb: int = 2048
) -> tuple[dict, str]:
    """Runs `_sandbox_child.py MODE` on `request` (which names the model file); returns (result, log)."""
    with tempfile.TemporaryDirectory(prefix="mai-sandbox-") as tmp:
        request_path = Path(tmp) / "request.json"
        result_path = Path(tmp) / "result.json"
        log_path = Path(tmp) / "log.txt"
        request_path.write_text(json.dumps(request))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "TMPDIR": tmp,
            "TF_CPP_MIN_LOG_LEVEL": "1",
            "OMP_NUM_THREADS": "1",
            "LANG": "C.UTF-8",
        }
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), mode, str(request_path), str(result_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=tmp,
                env=env,
                preexec_fn=_limit_child(memory_limit_mb),
                start_new_session=True,
                close_fds=True,
            )
            started = time.monotonic()
            try:
                proc.wait(timeout=time_limit_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                log = _read_log(log_path)
                raise SandboxTimeout(f"stopped after {time_limit_s:g} s", log=log) from None
            finally:
                if proc.poll() is None:
                    _kill_group(proc)
        elapsed = time.monotonic() - started
        log = _read_log(log_path)
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            raise SandboxCrash(
                f"the runtime crashed ({name}) after {elapsed:.1f} s", signal_name=name, log=log
            )
        if not result_path.exists():
            raise SandboxCrash(
                f"the runtime exited with status {proc.returncode} without a result",
                signal_name=f"exit {proc.returncode}",
                log=log,
            )
        result = json.loads(result_path.read_text())
        if not result.pop("ok", False):
            raise SandboxError(result.get("detail", ""), error_type=result.get("error", "Error"), log=log)
        return result, log


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
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
