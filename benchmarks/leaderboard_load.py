"""The public validation leaderboard under a crowd.

Creates its own PostgreSQL database, seeds three tracks with 10, 100 and N (default 1,000) teams (three
scored submissions each, ranked by the track's policy), counts the SQL queries of a leaderboard page at
each size (cold: right after the board changed; warm: served from the cache), then serves the site with
gunicorn (2 workers, Redis cache) and drives C (default 50) concurrent keep-alive clients of our own
(asyncio, HTTP/1.1) for D (default 30) seconds at the N-team board: its 10 pages and its CSV (one request
in five): the issue's scenario. With `--score-every S` a new score also lands every S seconds while the
clients run, invalidating the cached board as a deadline crowd would (harsher: each change sends one
request per page through Django to rebuild it while the others get the previous copy). Prints requests/s, p50, p99, errors, the
gunicorn processes' CPU time per request (and this client's), and ends with one JSON line:
"teams", "rps", "p50_ms", "p99_ms", "errors", "cpu_ms_per_request", "queries_per_page".

    .venv/bin/python benchmarks/leaderboard_load.py [--teams 1000] [--clients 50] [--duration 30] [--score-every 2]

Needs PostgreSQL (`--postgres`, default postgres://postgres@127.0.0.1:5432) and Redis (`--redis`,
default redis://127.0.0.1:6379/15; keys are prefixed with the run's database name). The database is
dropped at the end.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKSHOP = "mai-bench"
SIZES = (10, 100)


# --- Database and site ---------------------------------------------------------------------------------


def _admin_conn(postgres: str):
    import psycopg

    return psycopg.connect(f"{postgres}/postgres", autocommit=True)


def create_database(postgres: str, name: str) -> None:
    with _admin_conn(postgres) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(postgres: str, name: str) -> None:
    with _admin_conn(postgres) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def site_env(args, db_name: str, var_dir: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{args.postgres}/{db_name}",
        CACHE_URL=args.redis,
        CACHE_KEY_PREFIX=db_name,
        CELERY_BROKER_URL=args.redis,
        SECRET_KEY="benchmark-secret-key-0123456789abcdef0123456789abcdef",
        DEBUG="0",
        ALLOWED_HOSTS="*",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0",
        VAR_DIR=var_dir,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        OPENBLAS_NUM_THREADS="1",
        DATABASE_CONN_MAX_AGE="60",
    )
    return env


def seed(n_teams_big: int) -> dict[int, str]:
    """Three tracks (10, 100, N teams); returns {teams: challenge slug}."""
    from django.utils import timezone

    from challenges.models import Challenge, Milestone, Submission, Team
    from conference.models import Workshop

    now = timezone.now()
    rng = random.Random(2021)
    workshop = Workshop.objects.create(
        slug=WORKSHOP,
        name="Mobile AI benchmark edition",
        short_name="MAI Bench",
        host_conference="CVPR",
        start_date=(now + dt.timedelta(days=60)).date(),
        end_date=(now + dt.timedelta(days=60)).date(),
        time_zone="America/Los_Angeles",
    )
    slugs = {}
    for n in (*SIZES, n_teams_big):
        challenge = Challenge.objects.create(
            workshop=workshop, slug=f"denoising-{n}", title=f"Image Denoising ({n} teams)"
        )
        for kind, days in (
            (Milestone.Kind.WEBSITE_ONLINE, -60),
            (Milestone.Kind.TRAIN_DATA, -50),
            (Milestone.Kind.VALIDATION_SERVER, -40),
            (Milestone.Kind.TEST_DATA, 10),
            (Milestone.Kind.FINAL_DEADLINE, 20),
        ):
            Milestone.objects.create(challenge=challenge, kind=kind, at=now + dt.timedelta(days=days))
        teams = Team.objects.bulk_create([Team(challenge=challenge, name=f"Team {i:04d}") for i in range(n)])
        Submission.objects.bulk_create(
            [
                Submission(
                    challenge=challenge,
                    team=team,
                    file=f"bench/{team.pk}-{k}.zip",
                    original_name="results.zip",
                    size=1000,
                    method_name=f"Method {team.pk % 37}",
                    method_description="A long description that the leaderboard never shows. " * 20,
                    status=Submission.Status.DONE,
                    scores={"psnr": round(rng.uniform(25, 40), 4), "ssim": round(rng.uniform(0.7, 0.99), 4)},
                    per_file=[{"name": f"{i}.png", "psnr": 30.0, "ssim": 0.9} for i in range(20)],
                    created_at=now - dt.timedelta(minutes=rng.randint(1, 50000)),
                )
                for team in teams
                for k in range(3)
            ],
            batch_size=1000,
        )
        slugs[n] = challenge.slug
    return slugs


def count_queries(slug: str) -> tuple[int, int]:
    """(cold, warm) SQL queries of page 1 of the board: right after it changed, and from the cache."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from challenges import leaderboard_cache
    from challenges.models import Challenge

    challenge = Challenge.objects.get(workshop__slug=WORKSHOP, slug=slug)
    leaderboard_cache.bump(challenge.pk)
    url = f"/{WORKSHOP}/challenges/{slug}/leaderboard/"
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            response = Client().get(url)
        assert response.status_code == 200, response.status_code
        counts.append(len(ctx.captured_queries))
    return counts[0], counts[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    env: dict, *, workers: int, threads: int, extra: list[str] = ()
) -> tuple[subprocess.Popen, int]:
    """The site as production runs it (gunicorn, gthread workers) on a free port, in its own session."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(workers)]
    command += ["--worker-class", "gthread", "--threads", str(threads), "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", *extra]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True), port


def stop_gunicorn(proc: subprocess.Popen, timeout: float = 30) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def wait_http(port: int, path: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds (user + system, including reaped children) of a process and its children."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [root_pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root_pid:
                pids.append(int(entry))
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return total


# --- Load ----------------------------------------------------------------------------------------------


async def http_get(reader, writer, path: str) -> tuple[int, int]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length)
    return status, len(body)


async def client_loop(port, paths, stop_at, latencies, errors, rng):
    reader = writer = None
    while time.perf_counter() < stop_at:
        path = rng.choice(paths)
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, _ = await http_get(reader, writer, path)
            if status != 200:
                errors.append(status)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        latencies.append(time.perf_counter() - started)
    if writer is not None:
        writer.close()


async def drive(port: int, paths: list[str], clients: int, duration: float) -> tuple[list[float], list]:
    latencies: list[float] = []
    errors: list = []
    stop_at = time.perf_counter() + duration
    await asyncio.gather(
        *(client_loop(port, paths, stop_at, latencies, errors, random.Random(i)) for i in range(clients))
    )
    return latencies, errors


def score_landing(slug: str, every: float, stop: threading.Event) -> int:
    """A new scored submission every `every` seconds (as scoring workers would record them)."""
    from django.db import connection

    from challenges.models import Challenge, Submission

    challenge = Challenge.objects.get(workshop__slug=WORKSHOP, slug=slug)
    teams = list(challenge.teams.values_list("pk", flat=True))
    rng = random.Random(7)
    landed = 0
    while not stop.wait(every):
        sub = Submission.objects.create(
            challenge=challenge,
            team_id=rng.choice(teams),
            file="bench/new.zip",
            original_name="results.zip",
            status=Submission.Status.QUEUED,
        )
        sub.status = Submission.Status.DONE
        sub.scores = {"psnr": round(rng.uniform(25, 41), 4), "ssim": 0.9}
        sub.save(update_fields=["status", "scores"])  # the board's version is bumped by this save
        landed += 1
    connection.close()
    return landed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads per worker")
    parser.add_argument("--score-every", type=float, default=0.0, help="seconds between new scores (0: none)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    wall0, cpu0 = time.perf_counter(), time.process_time()
    db_name = f"mai_bench_leaderboard_{os.getpid()}"
    var_dir = tempfile.mkdtemp(prefix="mai-bench-lb-")
    env = site_env(args, db_name, var_dir)
    os.environ.update(env)
    create_database(args.postgres, db_name)
    gunicorn = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", "--noinput", verbosity=0)
        t = time.perf_counter()
        slugs = seed(args.teams)
        print(
            f"seeded 10, 100 and {args.teams} teams (3 submissions each) in {time.perf_counter() - t:.1f} s"
        )
        queries = {}
        for n, slug in slugs.items():
            cold, warm = count_queries(slug)
            queries[str(n)] = cold
            print(f"queries per page at {n:>5} teams: {cold} after a change, {warm} from the cache")
        connection.close()

        gunicorn, port = start_gunicorn(
            env, workers=args.workers, threads=args.threads, extra=["--keep-alive", "30"]
        )
        big = slugs[args.teams]
        base = f"/{WORKSHOP}/challenges/{big}/"
        wait_http(port, base + "leaderboard/")
        pages = [f"{base}leaderboard/?page={p}" for p in range(1, -(-args.teams // 100) + 1)]
        paths = pages * 4 + [f"{base}leaderboard.csv"] * max(1, len(pages))  # one request in five: CSV
        asyncio.run(drive(port, paths, args.clients, 2.0))  # warm-up: connections, caches, imports

        stop = threading.Event()
        landed = {"n": 0}
        writer = None
        if args.score_every > 0:
            writer = threading.Thread(
                target=lambda: landed.__setitem__("n", score_landing(big, args.score_every, stop))
            )
            writer.start()
        site_cpu0 = tree_cpu_seconds(gunicorn.pid)
        client_cpu0 = time.process_time()
        t0 = time.perf_counter()
        latencies, errors = asyncio.run(drive(port, paths, args.clients, args.duration))
        elapsed = time.perf_counter() - t0
        site_cpu = tree_cpu_seconds(gunicorn.pid) - site_cpu0
        client_cpu = time.process_time() - client_cpu0
        stop.set()
        if writer:
            writer.join()
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up when creation failed
            pass
        drop_database(args.postgres, db_name)

    n = len(latencies)
    rps = n / elapsed
    p50 = percentile(latencies, 0.50) * 1000 if n else None
    p99 = percentile(latencies, 0.99) * 1000 if n else None
    cpu_ms = site_cpu * 1000 / n if n else None
    print(
        f"{args.clients} clients for {elapsed:.1f} s on {args.teams} teams ({args.workers} gunicorn workers × "
        f"{args.threads} threads, Redis cache; {landed['n']} new scores landed meanwhile)"
    )
    print(f"  requests: {n} ({rps:.0f}/s), errors: {len(errors)} {sorted(set(map(str, errors)))[:5]}")
    if n:
        print(
            f"  latency: p50 {p50:.1f} ms, p90 {percentile(latencies, 0.9) * 1000:.1f} ms, p99 {p99:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms"
        )
        print(
            f"  CPU: gunicorn {site_cpu:.1f} s = {cpu_ms:.2f} ms per request; this client {client_cpu:.1f} s "
            f"(machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f})"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"benchmark: wall {time.perf_counter() - wall0:.1f} s, CPU {time.process_time() - cpu0:.1f} s "
        f"(max RSS {usage.ru_maxrss / 1024:.0f} MB)"
    )
    print(
        json.dumps(
            {
                "teams": args.teams,
                "rps": round(rps, 1),
                "p50_ms": round(p50, 2) if p50 is not None else None,
                "p99_ms": round(p99, 2) if p99 is not None else None,
                "errors": len(errors),
                "cpu_ms_per_request": round(cpu_ms, 3) if cpu_ms is not None else None,
                "queries_per_page": queries,
            }
        )
    )


if __name__ == "__main__":
    main()
