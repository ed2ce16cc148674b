"""Shared fixtures: users, the seeded demo, a real Celery worker process, the browser for e2e tests."""

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright drives Debian's chromium; nothing is downloaded."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def fast_password_hashing(settings):
    """A fast hasher for tests that create accounts (`make_user` asks for it; a test of the production
    hasher does not): a dozen accounts per test stay quick. Production keeps Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: cached leaderboards and rate limits are found by slugs and
    addresses, which the next test's rolled-back database reuses."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password():
    from tests.factories import PASSWORD

    return PASSWORD


@pytest.fixture
def make_user(db, password, fast_password_hashing):
    """make_user(email=None, full_name=…, affiliation=…, **profile fields) → an account as sign-up
    leaves it (`tests.factories.UserFactory`)."""
    from tests.factories import UserFactory

    def make(email=None, full_name="Test Person", affiliation="Test University", **profile):
        extra = {"email": email} if email else {}
        profile_fields = {f"profile__{k}": v for k, v in profile.items()}
        return UserFactory(full_name=full_name, affiliation=affiliation, **extra, **profile_fields)

    return make


@pytest.fixture
def seeded(db):
    """The demo MAI workshops, as `make run` seeds them."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    from conference.models import Workshop

    return {w.slug: w for w in Workshop.objects.all()}


def _worker_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    # The worker must see the test database, not the one the settings name.
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
    env.update(extra or {})
    return env


def start_celery_worker(
    queues: str, *, name: str, extra_env: dict | None = None, concurrency: int = 1, pool: str = "prefork"
) -> subprocess.Popen:
    """Starts a real `celery worker` process on the test database and Redis and waits until it answers."""
    from config.celery import app

    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queues,
        "-n",
        f"{name}@%h",
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    log = open(Path(os.environ["VAR_DIR"]) / f"worker-{name}.log", "w")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_worker_env(extra_env), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: see {log.name}")
        replies = app.control.ping(timeout=0.5, destination=[f"{name}@{os.uname().nodename}"])
        if replies:
            return proc
    proc.kill()
    raise RuntimeError("celery worker did not come up in 60 s")


@pytest.fixture(scope="session")
def _purged_broker(django_db_setup):
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in ("default", "scoring"):
            with contextlib.suppress(Exception):  # the queue may not exist yet
                conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, _purged_broker):
    """A real Celery worker process consuming `default` and `scoring` on Redis, for tests that use
    `transactional_db` (the worker is another process: it sees only committed rows)."""
    proc = start_celery_worker("default,scoring", name="tests")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    """Polls until predicate() is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


@pytest.fixture(scope="session")
def tflite_models(tmp_path_factory) -> dict[str, Path]:
    """Real TensorFlow-made .tflite files (see tests/tflite_models.py), built once per session."""
    from tests.tflite_models import build_test_models

    return build_test_models(tmp_path_factory.mktemp("tflite-models"))
