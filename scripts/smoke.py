"""Smoke run of the embedded default (SQLite in WAL mode + the serverless SQLite broker), in a scratch
folder: migrate, seed, fetch one page, one task round trip through a real worker process, then a crawl
of every page the demo users can reach (scripts/crawl.py)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="mai-smoke-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"}
    }
    env.update({"VAR_DIR": str(scratch), "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"})
    python = sys.executable
    worker = None
    try:
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True)
        worker = subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "default",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        check = (
            "import django; django.setup()\n"
            "from django.conf import settings\n"
            "assert settings.DATABASES['default']['ENGINE'].endswith('sqlite3')\n"
            "assert settings.CELERY_BROKER_URL.startswith('sqla+sqlite')\n"
            "from django.db import connection\n"
            "c = connection.cursor(); c.execute('PRAGMA journal_mode'); mode = c.fetchone()[0]\n"
            "assert mode == 'wal', mode\n"
            "from django.test import Client\n"
            "r = Client(HTTP_HOST='127.0.0.1').get('/mai-2021/dates/')\n"
            "assert r.status_code == 200 and b'Pacific Time' in r.content, r.status_code\n"
            "from config.celery import ping\n"
            "import time; t = time.monotonic()\n"
            "assert ping.delay('smoke').get(timeout=60) == 'smoke'\n"
            "print(f'smoke: page ok, WAL on, task round trip {time.monotonic() - t:.2f} s')\n"
        )
        started = time.monotonic()
        subprocess.run([python, "-c", check], cwd=ROOT, env=env, check=True, timeout=120)
        # Every page the demo users reach by links, on SQLite: the suite itself runs on PostgreSQL.
        subprocess.run(
            [python, "scripts/crawl.py"],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            check=True,
            timeout=300,
        )
        print(f"smoke run on the embedded default passed in {time.monotonic() - started:.1f} s")
        return 0
    finally:
        if worker:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
