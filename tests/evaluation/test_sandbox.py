"""The sandbox's limits as a child process sees them: address space capped, no core dumps, no network
(where the kernel allows a network namespace), killed with its parent."""

import ctypes
import os
import subprocess
import sys

import pytest

from evaluation.sandbox import RUNTIME_ADDRESS_SPACE_MB, _limit_child

PROBE = r"""
import resource, socket
s = socket.socket(); s.settimeout(1)
print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CORE)[0],
      s.connect_ex(("127.0.0.1", 6379)))
try:
    bytearray(3 * 2**30)
    print("allocated")
except MemoryError:
    print("MemoryError")
"""


def network_namespace_allowed() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if libc.unshare(0x40000000) == 0 or libc.unshare(0x10000000 | 0x40000000) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def test_child_runs_with_limits_and_without_network():
    out = subprocess.run(
        [sys.executable, "-I", "-c", PROBE],
        preexec_fn=_limit_child(512),
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    assert int(out[0]) == (RUNTIME_ADDRESS_SPACE_MB + 512) * 2**20
    assert out[1] == "0"
    assert out[3] == "MemoryError"  # 3 GB is beyond the cap: refused, not the machine's memory eaten
    if not network_namespace_allowed():
        pytest.skip("this kernel allows no network namespace here; the child keeps the host's network")
    assert out[2] != "0"  # Redis on the loopback is unreachable from inside the sandbox
