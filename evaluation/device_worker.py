"""The device worker: what a device host runs. It needs only the broker URL, the site URL and a device
token; it never touches the database and does not import Django.

`python -m evaluation.device_worker --device local:host-cpu [--device adb:SERIAL …]` (or
`python manage.py device_worker`, which fills in the embedded defaults) probes each device, registers it
with the site, then starts one Celery worker process per device on the queue `device.<slug>` (one job at
a time per device) and heartbeats every few seconds. A task (`evaluation.run_on_device`) claims the job
(the site answers with a signed, expiring model URL, or "already finished"), downloads the model, runs it
with the device's runner and reports the result or the participant-readable error.

Tasks are `acks_late` with `reject_on_worker_lost`: a worker process killed mid-run puts the message
back on the queue and the job is run again; the site's claim/report are idempotent, so a job is never
lost and never counted twice.

One job at a time per device, whatever happens to the workers: claiming a job takes the device's lease
on the site (held by this process, renewed every third of its lifetime while the job runs, freed by the
report). A worker whose claim finds the lease held (a second worker started for the device, an orphan
still finishing, a duplicate message) waits and claims again; after `DEVICE_LEASE_WAIT_S` it puts the
job back on the queue (a Celery retry): the job is delayed, never dropped. A holder that this machine
can see is gone (same boot and PID namespace, no such process any more) is taken over at once instead
of waiting for its lease to expire.

The per-device Celery workers die with the host process: each arms `PR_SET_PDEATHSIG` (SIGQUIT, Celery's
cold shutdown: the running job's message goes back on the queue, the pool processes, which Celery gives
a parent-death SIGKILL of their own, are stopped) as soon as it starts, then checks that its parent is
still the host process that started it (closing the race where the host died first), and a watchdog
thread kills it outright if it outlives its parent by `DEVICE_ORPHAN_GRACE_S`. A host killed with
SIGKILL leaves no worker consuming its device queues.

Environment: `CELERY_BROKER_URL`, `SITE_URL`, `DEVICE_TOKEN`; optional `DEVICE_HEARTBEAT_S` (10),
`DEVICE_SITE_PATIENCE_S` (120: how long a job rides out a site outage), `DEVICE_LEASE_WAIT_S` (60) and
`DEVICE_LEASE_POLL_S` (1): how long and how often a worker asks for a busy device, `DEVICE_ORPHAN_GRACE_S`
(10); `DEVICE_SYSFS_ROOT` ("": where the local runner reads /sys for temperatures and power); for the
per-device Celery processes also `DEVICE_SPEC` and `DEVICE_WORKER_PARENT_PID` (set by the parent).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import fields
from pathlib import Path

from celery import Celery

from .device_client import SiteClient, SiteRefused, SiteUnavailable
from .runners import runner_from_spec
from .runners.base import DeviceInfo, DeviceUnavailable, JobTimeout, ModelError, RunOptions

logger = logging.getLogger("evaluation.device_worker")

RUN_TASK = "evaluation.run_on_device"
PARENT_ENV = "DEVICE_WORKER_PARENT_PID"
PR_SET_PDEATHSIG = 1


def max_model_bytes() -> int:
    """The largest model this host downloads (`DEVICE_MAX_MODEL_BYTES`, read when a job runs)."""
    return int(os.environ.get("DEVICE_MAX_MODEL_BYTES", str(500 * 1024 * 1024)))


# --- Dying with the host process ---------------------------------------------------------------------


def _set_parent_death_signal(signum: int) -> bool:
    """prctl(PR_SET_PDEATHSIG, signum) on Linux; False elsewhere (the watchdog thread still works)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _orphan_watchdog(parent: int, grace_s: float) -> None:
    """Backstop for the parent-death signal: once the parent is gone, allow the cold shutdown `grace_s`
    seconds, then SIGKILL this process (its pool processes follow through their own death signal)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    logger.warning("the device host process %s is gone; this device worker stops", parent)
    time.sleep(grace_s)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent() -> None:
    """Called as the per-device Celery worker starts (this module is its app, imported first): arms the
    parent-death signal, then checks that the parent is still the device host that started us — if the
    host died between its fork and this point, the signal was never sent, so we leave now."""
    expected = os.environ.pop(PARENT_ENV, "")
    if not expected:
        return
    parent = int(expected)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGQUIT before Celery's handler: no core file
    except (ImportError, ValueError, OSError):
        pass
    _set_parent_death_signal(signal.SIGQUIT)
    if os.getppid() != parent:
        os._exit(3)
    grace = float(os.environ.get("DEVICE_ORPHAN_GRACE_S", "10"))
    threading.Thread(
        target=_orphan_watchdog, args=(parent, grace), name="orphan-watchdog", daemon=True
    ).start()


die_with_parent()


# --- The device's lease ------------------------------------------------------------------------------


def _machine_id() -> str:
    """This boot of this machine and this PID namespace: two processes with the same machine id can tell
    from a PID whether the other is alive. Empty where /proc does not say."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks (/proc/PID/stat field 22), None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields_after_name = stat.rsplit(")", 1)[1].split()
    if fields_after_name[0] in ("Z", "X"):
        return None
    return fields_after_name[19]


def holder_id(pid: int | None = None) -> str:
    """Who holds a lease: `host:pid:start-ticks@machine` (start ticks tell a reused PID apart)."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or 0}@{_machine_id()}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder was a process of this machine (same boot, same PID namespace) that no
    longer exists; a holder elsewhere, or one that cannot be judged, is presumed alive."""
    name_pid_ticks, _, machine = holder.rpartition("@")
    if not machine or machine != _machine_id():
        return False
    try:
        name, pid, ticks = name_pid_ticks.rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return False
    if name != socket.gethostname():
        return False
    return _start_ticks(pid) != ticks


class DeviceBusy(Exception):
    """Another attempt holds the device's lease; the job goes back on the queue for later."""


class DeviceHeldBack(Exception):
    """The device's operator paused it (or it drains and this job came after): the job goes back on the
    queue and is claimed again after `retry_in` seconds."""

    def __init__(self, message: str, retry_in: float):
        super().__init__(message)
        self.retry_in = retry_in


def claim_device(client: SiteClient, uid: str, *, device: str, worker: str) -> dict:
    """Claims the job and the device's lease, waiting while another attempt holds it (polling every
    `DEVICE_LEASE_POLL_S`); raises `DeviceBusy` after `DEVICE_LEASE_WAIT_S`."""
    wait_s = float(os.environ.get("DEVICE_LEASE_WAIT_S", "60"))
    poll_s = float(os.environ.get("DEVICE_LEASE_POLL_S", "1"))
    deadline = time.monotonic() + wait_s
    me = holder_id()
    dead = ""
    while True:
        claim = patiently(client.claim, uid, device=device, worker=worker, holder=me, dead_holder=dead)
        if claim.get("paused"):
            raise DeviceHeldBack(str(claim.get("reason") or "paused"), float(claim.get("retry_in") or 10))
        if not claim.get("busy"):
            return claim
        holder = str(claim.get("holder") or "")
        # The lease of a process that is gone (a killed pool process, a killed host) or our own stale one
        # (this process runs one task at a time: it holds nothing now).
        if holder and holder != dead and (holder == me or holder_is_dead(holder)):
            dead = holder
            continue
        if time.monotonic() >= deadline:
            raise DeviceBusy(f"device {device} busy ({claim.get('reason', '')}, holder {holder})")
        time.sleep(poll_s)


class LeaseKeeper:
    """Renews the device's lease every third of its lifetime while the job runs (a thread)."""

    def __init__(self, client: SiteClient, uid: str, *, device: str, attempt: int, lease_s: float):
        self.client, self.uid, self.device, self.attempt = client, uid, device, attempt
        self.every_s = max(0.5, float(lease_s) / 3)
        self.stopped = threading.Event()
        self.lost = False
        self.thread = threading.Thread(target=self._run, name=f"lease-{uid}", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.every_s):
            try:
                if not self.client.renew_lease(self.uid, device=self.device, attempt=self.attempt):
                    if not self.stopped.is_set():
                        logger.warning("job %s no longer holds the lease of %s", self.uid, self.device)
                        self.lost = True
                    return
            except (SiteUnavailable, SiteRefused) as exc:
                logger.warning("could not renew the lease of %s: %s", self.device, exc)

    def __enter__(self) -> LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def make_app() -> Celery:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    app = Celery("mai-device", broker=broker or None)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        worker_hijack_root_logger=True,
        broker_transport_options=(
            {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
            if broker.startswith("redis")
            else {}
        ),
    )
    if broker.startswith("sqla+"):
        from kombu.transport import sqlalchemy as _sqla

        _sqla.Transport.polling_interval = 0.1
    return app


app = make_app()
_RUNNERS: dict = {}


def _runner_for(slug: str):
    """The runner of this process's device (`DEVICE_SPEC`), built once per process."""
    if slug not in _RUNNERS:
        spec = os.environ.get("DEVICE_SPEC", "local:host-cpu")
        runner = runner_from_spec(spec)
        _RUNNERS[getattr(runner, "slug", None) or runner.probe().slug] = runner
    return _RUNNERS.get(slug)


def client_from_env() -> SiteClient:
    return SiteClient(os.environ["SITE_URL"], os.environ["DEVICE_TOKEN"])


def run_options(data: dict) -> RunOptions:
    known = {f.name for f in fields(RunOptions)}
    return RunOptions(**{k: v for k, v in (data or {}).items() if k in known})


def patiently(call, *args, patience_s: float | None = None, **kwargs):
    """Calls the site, riding out short outages (a restart, a deploy) with backoff; after
    `DEVICE_SITE_PATIENCE_S` seconds (120) the `SiteUnavailable` goes up and the task is retried."""
    patience_s = float(os.environ.get("DEVICE_SITE_PATIENCE_S", "120")) if patience_s is None else patience_s
    deadline = time.monotonic() + patience_s
    delay = 0.5
    while True:
        try:
            return call(*args, **kwargs)
        except SiteUnavailable:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 15)


def execute_job(payload: dict, *, client: SiteClient, worker: str) -> str:
    """Claims (with the device's lease, kept while the job runs), downloads, runs and reports one job.
    Returns what happened (for the log). Raises `SiteUnavailable` (retry later), `DeviceUnavailable`
    (the job was released; retry), `DeviceBusy` (another attempt holds the device; retry later) and
    `DeviceHeldBack` (the operator paused the device; retry later)."""
    uid, slug = payload["job"], payload["device"]
    runner = _runner_for(slug)
    if runner is None:
        patiently(client.release, uid, reason=f"device {slug} is not driven by this worker")
        return "released: not our device"
    claim = claim_device(client, uid, device=slug, worker=worker)
    if not claim.get("run"):
        return f"skipped: {claim.get('reason', '')}"
    lease_s = float(claim.get("lease_s") or 60)
    with LeaseKeeper(client, uid, device=slug, attempt=claim["attempt"], lease_s=lease_s):
        return _run_claimed(payload, claim, client=client, runner=runner)


def _run_claimed(payload: dict, claim: dict, *, client: SiteClient, runner) -> str:
    """Downloads, runs and reports the job this worker has claimed."""
    uid = payload["job"]
    attempt = claim["attempt"]
    options = run_options(claim.get("options") or payload.get("options"))
    options.accelerator = payload.get("accelerator", options.accelerator)
    with tempfile.TemporaryDirectory(prefix="mai-job-") as tmp:
        model_path = Path(tmp) / "model.tflite"
        try:
            patiently(client.download, claim["model_url"], model_path, max_bytes=max_model_bytes())
        except SiteRefused as exc:
            patiently(
                client.report,
                uid,
                attempt=attempt,
                error=f"The model could not be fetched from the site ({exc}).",
            )
            return "failed: download refused"
        started = time.monotonic()
        try:
            result = runner.run(model_path, options)
        except DeviceUnavailable as exc:
            patiently(client.release, uid, reason=exc.message, attempt=attempt)
            raise
        except JobTimeout as exc:
            patiently(client.report, uid, attempt=attempt, error=exc.message, log=exc.log)
            return "failed: time limit"
        except ModelError as exc:
            patiently(client.report, uid, attempt=attempt, error=exc.message, log=exc.log)
            return "failed: model error"
        except Exception as exc:  # noqa: BLE001 - an unexpected runner failure must still end the job
            logger.exception("runner failed on job %s", uid)
            patiently(
                client.report, uid, attempt=attempt, error=f"The device could not run this model: {exc}"
            )
            return "failed: runner error"
    answer = patiently(client.report, uid, attempt=attempt, result=result.as_dict())
    return f"done in {time.monotonic() - started:.2f} s (recorded: {answer.get('recorded')})"


@app.task(name=RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_on_device(self, payload: dict) -> str:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        return execute_job(payload, client=client_from_env(), worker=worker)
    except SiteUnavailable as exc:
        logger.warning("site unavailable for job %s: %s", payload.get("job"), exc)
        raise self.retry(countdown=min(60, 2 ** min(self.request.retries, 6))) from None
    except DeviceUnavailable as exc:
        logger.warning("device unavailable for job %s: %s", payload.get("job"), exc.message)
        raise self.retry(countdown=30) from None
    except DeviceBusy as exc:
        logger.info("job %s waits for its device: %s", payload.get("job"), exc)
        raise self.retry(countdown=2) from None
    except DeviceHeldBack as exc:
        logger.info("job %s held back: %s", payload.get("job"), exc)
        raise self.retry(countdown=exc.retry_in) from None


# --- The host process: register, heartbeat, supervise one Celery worker per device ----------------


def _start_device_worker(spec: str, slug: str, env: dict, loglevel: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "evaluation.device_worker",
        "worker",
        "-Q",
        f"device.{slug}",
        "-n",
        f"device-{slug}@{socket.gethostname()}",
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    # The child arms its parent-death signal itself and checks that this process is still its parent
    # (`die_with_parent`). Children are started from the main thread only: the signal follows the
    # thread that forked them.
    return subprocess.Popen(
        cmd,
        env={**env, "DEVICE_SPEC": spec, PARENT_ENV: str(os.getpid())},
        cwd=Path(__file__).resolve().parent.parent,
    )


def _probe_all(runners: dict[str, object], known: dict[str, DeviceInfo]) -> None:
    """Probes the devices not known yet; one unplugged phone must not stop the rest of the host."""
    for spec, runner in runners.items():
        if spec in known:
            continue
        try:
            known[spec] = runner.probe()
        except Exception as exc:  # noqa: BLE001 - DeviceUnavailable or a transport error: retried later
            logger.warning("device %s is not available yet (%s); will retry", spec, exc)


def _available(runner) -> bool:
    check = getattr(runner, "available", None)
    if check is None:
        return True
    try:
        return bool(check())
    except Exception:  # noqa: BLE001
        return False


def serve(
    specs: list[str],
    *,
    site_url: str,
    token: str,
    broker_url: str,
    heartbeat_s: float = 10,
    loglevel: str = "INFO",
) -> int:
    client = SiteClient(site_url, token)
    runners = {spec: runner_from_spec(spec) for spec in specs}
    infos: dict[str, DeviceInfo] = {}
    _probe_all(runners, infos)
    for attempt in range(1, 10**9):
        try:
            client.register(list(infos.values()))
            break
        except SiteUnavailable as exc:
            logger.warning("site not reachable yet (%s); retrying", exc)
            time.sleep(min(5, 0.5 * attempt))
        except SiteRefused as exc:
            logger.error("the site refused this device host: %s", exc)
            return 2
    logger.info("registered %s with %s", ", ".join(info.slug for info in infos.values()), site_url)
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "SITE_URL": site_url, "DEVICE_TOKEN": token}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    children = {
        info.slug: (spec, _start_device_worker(spec, info.slug, env, loglevel))
        for spec, info in infos.items()
    }
    stopping = {"now": False}

    def stop(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping["now"]:
            if len(infos) < len(runners):  # devices that were unplugged at start: try them again
                before = set(infos)
                _probe_all(runners, infos)
                for spec in set(infos) - before:
                    slug = infos[spec].slug
                    children[slug] = (spec, _start_device_worker(spec, slug, env, loglevel))
            try:
                # Only devices that answer are reported alive: a phone unplugged mid-run stays offline
                # on the site (its jobs wait or go to a twin) until it is back.
                alive = [info.slug for spec, info in infos.items() if _available(runners[spec])]
                seen = client.heartbeat(alive).get("seen", 0)
                if seen < len(alive):  # the site does not know (all of) them: register again
                    client.register([info for spec, info in infos.items() if info.slug in alive])
            except (SiteUnavailable, SiteRefused) as exc:
                logger.warning("heartbeat failed: %s", exc)
            for slug, (spec, proc) in list(children.items()):
                if proc.poll() is not None and not stopping["now"]:
                    logger.warning("worker for %s exited (%s); restarting", slug, proc.returncode)
                    children[slug] = (spec, _start_device_worker(spec, slug, env, loglevel))
            deadline = time.monotonic() + heartbeat_s
            while time.monotonic() < deadline and not stopping["now"]:
                time.sleep(0.2)
    finally:
        for _, proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        for _, proc in children.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="device_worker", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device",
        action="append",
        dest="devices",
        metavar="TRANSPORT:TARGET",
        help="a device to serve, e.g. local:host-cpu, adb:SERIAL, ssh:pi@10.0.0.7 (repeatable)",
    )
    parser.add_argument("--site-url", default=os.environ.get("SITE_URL", ""))
    parser.add_argument("--token", default=os.environ.get("DEVICE_TOKEN", ""))
    parser.add_argument("--broker-url", default=os.environ.get("CELERY_BROKER_URL", ""))
    parser.add_argument("--heartbeat", type=float, default=float(os.environ.get("DEVICE_HEARTBEAT_S", "10")))
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.loglevel, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    missing = [
        name
        for name, value in (
            ("--site-url/SITE_URL", args.site_url),
            ("--token/DEVICE_TOKEN", args.token),
            ("--broker-url/CELERY_BROKER_URL", args.broker_url),
        )
        if not value
    ]
    if missing:
        parser.error("missing " + ", ".join(missing))
    return serve(
        args.devices or ["local:host-cpu"],
        site_url=args.site_url,
        token=args.token,
        broker_url=args.broker_url,
        heartbeat_s=args.heartbeat,
        loglevel=args.loglevel,
    )


if __name__ == "__main__":
    sys.exit(main())
