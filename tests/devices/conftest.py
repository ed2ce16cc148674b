"""Fixtures for the device tests: a real adb server on its own port with the test device of
`adb_device.py` registered through `adb connect`, the stand-in benchmark_model, and a real OpenSSH
server on loopback with throw-away keys (see `sshd.py`)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.devices.adb_device import AdbTestDevice

ADB_PORT = int(os.environ.get("MAI_TEST_ADB_PORT", "5137"))
HERE = Path(__file__).resolve().parent


def free_port(start: int) -> int:
    for port in range(start, start + 400):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


def adb(*args, check=False) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["adb", "-P", str(ADB_PORT), *args], capture_output=True, text=True, timeout=30, check=check
    )


@pytest.fixture(scope="session")
def adb_server():
    """A real adb server (Debian's adb) on ADB_PORT; the runners find it through ANDROID_ADB_SERVER_PORT."""
    previous = os.environ.get("ANDROID_ADB_SERVER_PORT")
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(ADB_PORT)
    adb("start-server", check=True)
    yield ADB_PORT
    adb("kill-server")
    if previous is None:
        os.environ.pop("ANDROID_ADB_SERVER_PORT", None)
    else:
        os.environ["ANDROID_ADB_SERVER_PORT"] = previous


@pytest.fixture(scope="session")
def standin_benchmark_model(tmp_path_factory) -> Path:
    """The stand-in benchmark_model as the operator would hand the worker a binary: one executable file."""
    path = tmp_path_factory.mktemp("tools") / "benchmark_model"
    source = (HERE / "standin_benchmark_model.py").read_text()
    # The stand-in's op profiling reuses evaluation.profiling: it finds this checkout first on its path.
    path.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(HERE.parent.parent)!r})\n{source}"
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def adb_device(adb_server, tmp_path):
    """A test phone on a loopback port, connected to the adb server with `adb connect`."""
    device = AdbTestDevice(tmp_path / "phone", free_port(15555)).start()
    out = adb("connect", device.serial).stdout
    assert "connected" in out, out
    yield device
    device.stop()
    adb("disconnect", device.serial)


@pytest.fixture
def sshd(tmp_path):
    """A real sshd on loopback with throw-away keys; the "board" is this machine."""
    from tests.devices.sshd import SshTestServer

    server = SshTestServer(tmp_path / "sshd", free_port(22222)).start()
    yield server
    server.stop()
