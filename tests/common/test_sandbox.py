"""The one sandbox (`common.sandbox`) as a child process sees it and as its callers see it: address space
capped, no core dumps, no network (where the kernel allows a network namespace), its own session, killed
at the time limit with everything it started, killed with its parent; crashes, exceptions and timeouts
come back as verdicts."""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

ROOT = Path(__file__).resolve().parents[2]
PROBES = "tests.common.sandbox_probes"


def network_namespace_allowed() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        ok = libc.unshare(0x40000000) == 0 or libc.unshare(0x10000000 | 0x40000000) == 0
        os._exit(0 if ok else 1)
    return os.waitpid(pid, 0)[1] == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it runs nothing.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def wait_pids(pid_file: Path, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_file.exists() and pid_file.read_text().strip():
            return [int(p) for p in pid_file.read_text().split()]
        time.sleep(0.05)
    pytest.fail("the sandboxed probe never started")


def test_child_runs_with_limits_and_without_network():
    result, _ = run_sandboxed(
        f"{PROBES}:limits",
        {"port": 6379, "allocate_mb": 3072},
        time_limit_s=30,
        memory_limit_mb=1024,
    )
    assert result["address_space"] == 1024 * 2**20
    assert result["core"] == 0
    assert result["allocated"] is False  # 3 GB is beyond the cap: refused, not the machine's memory eaten
    assert result["session_leader"] is True
    if not network_namespace_allowed():
        pytest.skip("this kernel allows no network namespace here; the child keeps the host's network")
    assert result["network_reachable"] is False  # Redis on the loopback is unreachable from inside


def test_a_crash_by_signal_is_a_verdict():
    with pytest.raises(SandboxCrash) as caught:
        run_sandboxed(f"{PROBES}:segfault", {}, time_limit_s=30, memory_limit_mb=1024)
    assert caught.value.signal_name == "SIGSEGV"


def test_an_exception_is_a_verdict_with_its_type_and_text():
    with pytest.raises(SandboxError) as caught:
        run_sandboxed(f"{PROBES}:raises", {"text": "bad input"}, time_limit_s=30, memory_limit_mb=1024)
    assert caught.value.error_type == "ValueError"
    assert caught.value.message == "bad input"


def test_the_watchdog_kills_the_child_and_everything_it_started(tmp_path):
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(SandboxTimeout):
        run_sandboxed(
            f"{PROBES}:sleeps",
            {"pid_file": str(pid_file), "seconds": 60},
            time_limit_s=3,
            memory_limit_mb=1024,
        )
    assert time.monotonic() - started < 15
    child, grandchild = wait_pids(pid_file)
    time.sleep(0.2)
    assert not alive(child)
    assert not alive(grandchild)


def test_the_child_dies_with_its_parent(tmp_path):
    """A worker killed with SIGKILL while a model runs leaves no sandboxed process behind."""
    pid_file = tmp_path / "pids"
    parent_code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from common.sandbox import run_sandboxed\n"
        f"run_sandboxed('{PROBES}:sleeps', {{'pid_file': sys.argv[2], 'seconds': 120}},"
        " time_limit_s=300, memory_limit_mb=1024)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code, str(ROOT), str(pid_file)])
    try:
        child, _ = wait_pids(pid_file)
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_on_poll_sees_progress_and_threads_can_sandbox_at_once(tmp_path):
    """Callers in threads (gunicorn threads, Celery) each get their own child; on_poll runs while waiting."""
    seen: dict[int, list[str]] = {}
    results: dict[int, dict] = {}

    def call(n: int) -> None:
        progress = tmp_path / f"progress-{n}"
        seen[n] = []

        def poll():
            if progress.exists():
                seen[n].append(progress.read_text())

        results[n], _ = run_sandboxed(
            f"{PROBES}:counts",
            {"steps": 5, "progress_file": str(progress)},
            time_limit_s=60,
            memory_limit_mb=1024,
            on_poll=poll,
        )

    threads = [threading.Thread(target=call, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert [results[n] for n in range(3)] == [{"steps": 5}] * 3
    for n in range(3):
        assert seen[n][-1] == "5"
        assert len(set(seen[n])) > 1  # progress was seen while the child ran, not only at the end
