"""A deadline rush: 200 teams upload 10 MB of validation results at once, in the last minute before
the validation phase closes, through gunicorn (2 workers, gthread) on PostgreSQL and Redis.

Creates its own PostgreSQL database (dropped at the end), a track with its validation ground truth,
200 participants each in their own team with an API token, and sets the close 60 s ahead. Every client
opens its connection, then all send their upload (a zip of noise PNGs, 10 MB) through the submissions
API at the same instant. An upload is accepted when the site answers 201 and its row and file are
stored with the arrival instant as its time; lost when it was sent before the close and is not stored
(refused, failed or missing); an error is any answer other than 201/400 or a broken connection. Prints
the outcome, upload latency percentiles, the site's CPU time beside the wall time, and one JSON line:
"accepted", "lost", "errors", "p99_s".

    .venv/bin/python benchmarks/deadline_rush.py [--uploads 200] [--mb 10] [--close-in 60]
"""

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leaderboard_load import (  # noqa: E402 - the sibling benchmark's database and site helpers
    create_database,
    drop_database,
    percentile,
    site_env,
    start_gunicorn,
    stop_gunicorn,
    tree_cpu_seconds,
    wait_http,
)

WORKSHOP = "mai-rush"
CHALLENGE = "denoising"


def results_zip(megabytes: float, names: list[str]) -> bytes:
    """A zip of incompressible PNGs (noise), about `megabytes` in all."""
    from challenges.demo_data import png_bytes

    rng = np.random.default_rng(2021)
    side = int((megabytes * 1024 * 1024 / len(names) / 3) ** 0.5)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.writestr(name, png_bytes(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)))
    return out.getvalue()


def seed(n: int) -> list[str]:
    """The track, its ground truth, n participants in n teams; their API tokens."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from apitokens.services import api_token_create
    from challenges.demo_data import png_bytes
    from challenges.models import Challenge, DataFile, Milestone, Registration, Team, TeamMembership
    from conference.models import Workshop

    now = timezone.now()
    workshop = Workshop.objects.create(
        slug=WORKSHOP,
        name="Mobile AI deadline rush",
        short_name="MAI Rush",
        host_conference="CVPR",
        start_date=(now + dt.timedelta(days=60)).date(),
        end_date=(now + dt.timedelta(days=60)).date(),
        time_zone="America/Los_Angeles",
    )
    challenge = Challenge.objects.create(
        workshop=workshop, slug=CHALLENGE, title="Image Denoising", submissions_per_day=5, max_upload_mb=50
    )
    for kind, days in (
        (Milestone.Kind.WEBSITE_ONLINE, -60),
        (Milestone.Kind.TRAIN_DATA, -50),
        (Milestone.Kind.VALIDATION_SERVER, -40),
        (Milestone.Kind.TEST_DATA, 1),
        (Milestone.Kind.FINAL_DEADLINE, 20),
    ):
        Milestone.objects.create(challenge=challenge, kind=kind, at=now + dt.timedelta(days=days))
    gt = io.BytesIO()
    with zipfile.ZipFile(gt, "w") as archive:
        for i in range(4):
            archive.writestr(f"{i:04d}.png", png_bytes(np.zeros((8, 8, 3), dtype=np.uint8)))
    data_file = DataFile(challenge=challenge, split=DataFile.Split.VALIDATION_GT, title="Validation GT")
    data_file.file.save("gt.zip", ContentFile(gt.getvalue()), save=False)
    data_file.size = len(gt.getvalue())
    data_file.save()
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"rush{i}@example.org", email=f"rush{i}@example.org", password="!") for i in range(n)]
    )
    Registration.objects.bulk_create(
        [
            Registration(challenge=challenge, user=u, accepted_terms_at=now, approved=True, approved_at=now)
            for u in users
        ]
    )
    teams = Team.objects.bulk_create([Team(challenge=challenge, name=f"Rush {i:03d}") for i in range(n)])
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(team=t, challenge=challenge, user=u, role=TeamMembership.Role.LEADER)
            for t, u in zip(teams, users, strict=True)
        ]
    )
    return [api_token_create(user=u, name="benchmark", scope="submit")[1] for u in users]


def multipart(data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="method_name"\r\n\r\nrush\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="results.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


async def upload(port: int, token: str, content_type: str, body: bytes, go: asyncio.Event, timeout: float):
    path = f"/api/challenges/{WORKSHOP}/{CHALLENGE}/submissions/"
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    await go.wait()
    sent_at = time.time()
    started = time.perf_counter()
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        writer.write(body)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (int(x.split(":", 1)[1]) for x in lines if x.lower().startswith("content-length:")), None
        )
        payload = await (reader.readexactly(length) if length is not None else reader.read())
        return {"status": status, "payload": payload, "sent_at": sent_at, "s": time.perf_counter() - started}
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return {
            "status": type(exc).__name__,
            "payload": b"",
            "sent_at": sent_at,
            "s": time.perf_counter() - started,
        }
    finally:
        writer.close()


async def rush(port: int, tokens: list[str], content_type: str, body: bytes, timeout: float) -> list[dict]:
    go = asyncio.Event()
    tasks = [asyncio.create_task(upload(port, t, content_type, body, go, timeout)) for t in tokens]
    await asyncio.sleep(1.0)  # every connection open and waiting
    go.set()
    return await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--close-in", type=float, default=60.0, help="seconds from the rush to the close")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=0, help="gthread threads per worker (0: uploads/workers)"
    )
    parser.add_argument(
        "--db-concurrency", type=int, default=8, help="WEB_MAX_CONCURRENT_REQUESTS per worker"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a client waits for its answer")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    threads = args.threads or -(-args.uploads // args.workers)

    wall0, cpu0 = time.perf_counter(), time.process_time()
    db_name = f"mai_bench_rush_{os.getpid()}"
    var_dir = tempfile.mkdtemp(prefix="mai-bench-rush-")
    env = site_env(args, db_name, var_dir)
    # Many threads take (and stamp) every upload at once; a few per process go on to the database.
    env["WEB_MAX_CONCURRENT_REQUESTS"] = str(args.db_concurrency)
    env["DATABASE_CONN_MAX_AGE"] = "0"  # threads that keep connections would hold one each
    os.environ.update(env)
    create_database(args.postgres, db_name)
    gunicorn = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from challenges.models import Milestone, Submission

        call_command("migrate", "--noinput", verbosity=0)
        tokens = seed(args.uploads)
        data = results_zip(args.mb, [f"{i:04d}.png" for i in range(4)])
        content_type, body = multipart(data)
        print(f"{args.uploads} teams seeded; each uploads {len(data) / 2**20:.1f} MB")

        gunicorn, port = start_gunicorn(
            env, workers=args.workers, threads=threads, extra=["--backlog", "2048", "--timeout", "120"]
        )
        wait_http(port, f"/{WORKSHOP}/challenges/{CHALLENGE}/leaderboard/")
        close = Milestone.objects.get(challenge__slug=CHALLENGE, kind=Milestone.Kind.TEST_DATA)
        close.at = timezone.now() + dt.timedelta(seconds=args.close_in + 1.0)
        close.save()
        deadline = close.at.timestamp()
        connection.close()
        site_cpu0 = tree_cpu_seconds(gunicorn.pid)
        t0 = time.perf_counter()
        results = asyncio.run(rush(port, tokens, content_type, body, args.timeout))
        elapsed = time.perf_counter() - t0
        site_cpu = tree_cpu_seconds(gunicorn.pid) - site_cpu0

        stored = {
            str(s.public_id): s
            for s in Submission.objects.filter(challenge__slug=CHALLENGE).select_related("team")
        }
        accepted = lost = errors = 0
        refused_messages = set()
        for r in results:
            ok = False
            if r["status"] == 201:
                sub = stored.get(json.loads(r["payload"])["id"])
                ok = (
                    sub is not None
                    and sub.created_at.timestamp() < deadline
                    and sub.created_at.timestamp() >= r["sent_at"] - 0.01
                    and Path(var_dir, "private", sub.file.name).stat().st_size == len(data)
                )
                accepted += ok
            elif r["status"] == 400:
                refused_messages.add(json.loads(r["payload"]).get("detail", ["?"])[0])
            else:
                errors += 1
            if not ok and r["sent_at"] < deadline:
                lost += 1
        latencies = [r["s"] for r in results]
        connection.close()
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001
            pass
        drop_database(args.postgres, db_name)

    p99 = percentile(latencies, 0.99)
    print(
        f"{args.uploads} uploads of {len(data) / 2**20:.1f} MB sent at once, {args.close_in:.0f} s before the close, "
        f"through gunicorn ({args.workers} workers × {threads} threads, {args.db_concurrency} at once past the "
        f"arrival stamp): {elapsed:.1f} s until the last answer"
    )
    print(f"  accepted {accepted}, lost {lost}, errors {errors}; refusals: {sorted(refused_messages)[:3]}")
    print(
        f"  upload latency: p50 {percentile(latencies, 0.5):.2f} s, p99 {p99:.2f} s, max {max(latencies):.2f} s; "
        f"site CPU {site_cpu:.1f} s ({site_cpu * 1000 / len(results):.0f} ms per upload) over {elapsed:.1f} s wall "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(f"benchmark: wall {time.perf_counter() - wall0:.1f} s, CPU {time.process_time() - cpu0:.1f} s")
    print(json.dumps({"accepted": accepted, "lost": lost, "errors": errors, "p99_s": round(p99, 2)}))


if __name__ == "__main__":
    main()
