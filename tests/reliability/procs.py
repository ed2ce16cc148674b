"""Real processes for the reliability tests: a Redis server of the test's own (so stopping it harms
nobody), site Celery workers, `celery beat` and device workers, each in its own session so that a test
can kill a whole process tree with one SIGKILL, as a crash or an OOM killer would."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, _worker_env

# Short windows for the sweeps and beat's intervals (the defaults are minutes); read by the worker and
# beat processes from their environment, as in production.
SHORT_WINDOWS = {
    "BEAT_DISPATCH_EVERY_S": "1",
    "BEAT_SWEEP_EVERY_S": "2",
    "BEAT_OFFLINE_DEVICES_EVERY_S": "2",
    "BEAT_REVIEW_REMINDERS_EVERY_S": "3600",
    "EVALUATION_STUCK_GRACE_S": "3",
    "EVALUATION_QUEUED_RESEND_S": "12",
    "EVALUATION_MAX_ATTEMPTS": "4",
    "CHALLENGES_STALE_QUEUED_S": "8",
    "CHALLENGES_STALE_SCORING_S": "30",
    "FINALPHASE_STALE_QUEUED_S": "8",
    "OPENBLAS_NUM_THREADS": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_path(name: str) -> Path:
    return Path(os.environ["VAR_DIR"]) / f"reliability-{name}.log"


class RedisServer:
    """`redis-server` on a free loopback port, no persistence (like the machine's own): a restart
    loses every message, as a crashed broker does."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=open(log_path(f"redis-{self.port}"), "a"),  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # a crash: nothing is saved
            self.proc.wait(timeout=10)
        self.proc = None


def site_env(broker_url: str, extra: dict | None = None) -> dict:
    """The environment of a site process: the test database, the test's own broker, short windows."""
    return _worker_env(
        {
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            **SHORT_WINDOWS,
            **(extra or {}),
        }
    )


def probe_app(broker_url: str):
    from celery import Celery

    app = Celery("probe")
    # Set after the configuration is loaded: Celery lets CELERY_BROKER_URL in the environment (the test
    # session's broker) win over a `broker=` argument.
    app.conf.broker_url = broker_url
    return app


def wait_for_ping(broker_url: str, node: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    app = probe_app(broker_url)
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{node} exited with {proc.returncode}")
        try:
            if app.control.ping(timeout=0.5, destination=[node]):
                return
        except Exception as exc:  # noqa: BLE001 - the broker may still be starting
            error = exc
        time.sleep(0.2)
    raise RuntimeError(f"{node} did not answer in {timeout} s (last error: {error!r})")


def start_site_worker(broker_url: str, *, name: str, queues: str = "default,scoring") -> subprocess.Popen:
    """`celery -A config worker` (prefork, one pool process) in its own session, up and consuming."""
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h",
           "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO",
           "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=site_env(broker_url),
        stdout=open(log_path(name), "w"),  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_ping(broker_url, f"{name}@{socket.gethostname()}", proc)
    return proc


def start_beat(
    broker_url: str, *, schedule_dir: Path, name: str = "beat", loglevel: str = "INFO"
) -> subprocess.Popen:
    """The real `celery -A config beat`, its schedule file in `schedule_dir` (any VAR_DIR works)."""
    cmd = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", loglevel,
           "--schedule", str(schedule_dir / "celerybeat-schedule")]  # fmt: skip
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=site_env(broker_url),
        stdout=open(log_path(name), "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_device_worker(*, site_url: str, token: str, broker_url: str, name: str) -> subprocess.Popen:
    """`python -m evaluation.device_worker --device local:host-cpu` with only the broker URL, the site URL
    and the token (no database settings), in its own session: its Celery worker is in the same group."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "CELERY_BROKER_URL": broker_url,
        "SITE_URL": site_url,
        "DEVICE_TOKEN": token,
        "DEVICE_HEARTBEAT_S": "0.5",
        "DEVICE_SITE_PATIENCE_S": "5",
        "OPENBLAS_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "evaluation.device_worker",
        "--loglevel",
        "INFO",
        "--device",
        "local:host-cpu",
    ]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=open(log_path(name), "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (zombies, already dead, are not counted)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def kill_tree(proc: subprocess.Popen, timeout: float = 20) -> int:
    """SIGKILL to the process and every process of its session/group (main process, pool, children);
    returns how many processes the tree had."""
    members = len(group_members(proc.pid))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not group_alive(proc.pid), "a process of the killed tree survived"
    return members


def stop(proc: subprocess.Popen | None, timeout: float = 30) -> None:
    """A clean stop (SIGTERM to the group), then SIGKILL for whatever is left."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def site_broker(broker_url: str):
    """Points this process's Celery app (used by the views' dispatch) at the test's own broker. Celery
    reads CELERY_BROKER_URL from the environment before its own configuration (even before `broker=`),
    so that is what is changed, and restored afterwards."""
    from django.conf import settings

    from config.celery import app

    def reset():  # (kombu's pools are shared by URL: closing one would close other apps' too)
        app._pool = None
        app.amqp._producer_pool = None

    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = (app.conf.result_backend, settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND)
    os.environ["CELERY_BROKER_URL"] = broker_url
    app.conf.result_backend = broker_url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = broker_url
    reset()
    try:
        yield app
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.conf.result_backend, settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND = saved
        reset()
