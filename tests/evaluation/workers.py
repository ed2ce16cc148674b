"""Helpers for tests that run jobs through real device workers: bad models derived from the session's
TensorFlow-made ones, and a device worker started as a separate process with no database settings."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

TEST_HOST = "test-device-host"


def derived_models(tflite_models: dict[str, Path], folder: Path) -> dict[str, Path]:
    """Broken and hostile files made from a real model: random bytes, a truncated model, a model whose
    input asks for 10 GB, a model with an operator LiteRT lacks."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fu

    folder.mkdir(parents=True, exist_ok=True)
    source = tflite_models["conv_float"].read_bytes()
    out = {}

    huge = fu.read_model_from_bytearray(bytearray(source))
    tensor = huge.subgraphs[0].tensors[huge.subgraphs[0].inputs[0]]
    tensor.shape = np.array([1, 30000, 30000, 3], dtype=np.int32)
    tensor.shapeSignature = None
    out["huge_input"] = bytes(fu.convert_object_to_bytearray(huge))

    custom = fu.read_model_from_bytearray(bytearray(source))
    code = custom.operatorCodes[-1]
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = b"MaiSecretOp"
    out["custom_op"] = bytes(fu.convert_object_to_bytearray(custom))

    out["truncated"] = source[: len(source) // 2]
    out["random"] = np.random.default_rng(1).bytes(4096)
    paths = {}
    for name, data in out.items():
        path = folder / f"{name}.tflite"
        path.write_bytes(data)
        paths[name] = path
    return paths


def start_device_worker(
    *,
    site_url: str,
    token: str,
    broker_url: str,
    name: str = "device",
    devices: tuple[str, ...] = ("local:host-cpu",),
    extra_env: dict | None = None,
) -> subprocess.Popen:
    """`python -m evaluation.device_worker` with only the broker URL, the site URL and the token: no
    DATABASE_URL, no DJANGO_SETTINGS_MODULE, no SECRET_KEY in its environment (`extra_env`: the
    device worker's own DEVICE_* knobs)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "CELERY_BROKER_URL": broker_url,
        "SITE_URL": site_url,
        "DEVICE_TOKEN": token,
        "DEVICE_HEARTBEAT_S": "0.5",
        "DEVICE_SITE_PATIENCE_S": "5",
        **(extra_env or {}),
    }
    log = open(Path(os.environ["VAR_DIR"]) / f"{name}.log", "w")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
    cmd = [sys.executable, "-m", "evaluation.device_worker", "--loglevel", "INFO"]
    for spec in devices:
        cmd += ["--device", spec]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


_SHARED = {"proc": None, "users": 0}


def acquire_device_worker(*, site_url: str, broker_url: str) -> subprocess.Popen:
    """One device worker for the whole session, however many test modules ask for it (two workers on
    one device queue would run two jobs of the device at once)."""
    from evaluation.tokens import device_host_token

    if _SHARED["proc"] is None or _SHARED["proc"].poll() is not None:
        purge_device_queue("host-cpu")
        _SHARED["proc"] = start_device_worker(
            site_url=site_url, token=device_host_token(TEST_HOST), broker_url=broker_url, name="device-worker"
        )
    _SHARED["users"] += 1
    return _SHARED["proc"]


def release_device_worker() -> None:
    _SHARED["users"] -= 1
    if _SHARED["users"] <= 0 and _SHARED["proc"] is not None:
        stop(_SHARED["proc"])
        _SHARED["proc"] = None


def shared_device_worker(live_server, django_db_blocker):
    """Generator for a module fixture: the session's host-cpu device worker, up and consuming. It
    registers through the live server while it comes up, so the server may reach the test database."""
    from django.conf import settings

    with django_db_blocker.unblock():
        proc = acquire_device_worker(site_url=live_server.url, broker_url=settings.CELERY_BROKER_URL)
        try:
            wait_for_consumer("host-cpu")
        except RuntimeError:
            release_device_worker()
            raise
    yield proc
    release_device_worker()


def wait_for_consumer(slug: str, timeout: float = 60) -> None:
    """Waits until the Celery worker of device `slug` answers a ping."""
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5, destination=[f"device-{slug}@{os.uname().nodename}"]):
            return
    raise RuntimeError(f"the device worker for {slug} did not come up in {timeout} s")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren…), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state_and_more = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if state_and_more[0] not in ("Z", "X"):
            parents[int(entry.name)] = int(state_and_more[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def queue_consumers(queue: str) -> list[str]:
    """Names of the Celery workers that answer they consume `queue`."""
    from config.celery import app

    replies = app.control.inspect(timeout=1.0).active_queues() or {}
    return [name for name, queues in replies.items() if any(q["name"] == queue for q in queues)]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def purge_device_queue(slug: str) -> None:
    from config.celery import app

    # The queue may not exist yet.
    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(f"device.{slug}")
