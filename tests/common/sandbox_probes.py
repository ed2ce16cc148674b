"""Functions the sandbox tests run inside the sandbox (imported by the child: no Django here)."""

import os
import resource
import signal
import socket
import subprocess
import time


def limits(request: dict) -> dict:
    probe = socket.socket()
    probe.settimeout(1)
    reachable = probe.connect_ex(("127.0.0.1", int(request["port"]))) == 0
    try:
        bytearray(int(request["allocate_mb"]) * 2**20)
        allocated = True
    except MemoryError:
        allocated = False
    return {
        "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
        "core": resource.getrlimit(resource.RLIMIT_CORE)[0],
        "network_reachable": reachable,
        "allocated": allocated,
        "session_leader": os.getsid(0) == os.getpid(),
    }


def segfault(request: dict) -> dict:
    os.kill(os.getpid(), signal.SIGSEGV)
    return {}


def raises(request: dict) -> dict:
    raise ValueError(request["text"])


def sleeps(request: dict) -> dict:
    """Starts a grandchild, writes both pids, then sleeps: for the watchdog and parent-death tests."""
    grandchild = subprocess.Popen(["sleep", "300"])
    with open(request["pid_file"], "w") as fh:
        fh.write(f"{os.getpid()} {grandchild.pid}")
    time.sleep(float(request["seconds"]))
    return {"slept": True}


def counts(request: dict) -> dict:
    """Writes progress to a file the parent's on_poll reads."""
    for i in range(int(request["steps"])):
        with open(request["progress_file"], "w") as fh:
            fh.write(str(i + 1))
        time.sleep(0.15)
    return {"steps": int(request["steps"])}
