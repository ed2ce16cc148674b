"""Fixtures of the reliability tests: a Redis of the test's own, the real `celery beat` with short
windows, site workers and device workers started and killed as whole process trees."""

import pytest

from tests.challenges.conftest import denoising, live, participant  # noqa: F401 - fixtures used here

from .procs import RedisServer, site_broker, start_beat, stop


@pytest.fixture(scope="module")
def broker(django_db_setup, tmp_path_factory):
    """A redis-server of this module's own, and this process's Celery app pointed at it."""
    redis = RedisServer()
    redis.start()
    with site_broker(redis.url):
        yield redis
    redis.stop()


@pytest.fixture(scope="module")
def beat(broker, tmp_path_factory):
    """The real `celery -A config beat` on the module's broker, with short intervals."""
    proc = start_beat(broker.url, schedule_dir=tmp_path_factory.mktemp("beat"), name="beat-recovery")
    yield proc
    stop(proc)


@pytest.fixture
def processes():
    """Processes a test starts; whatever is still running at the end is stopped."""
    started = []
    yield started
    for proc in reversed(started):
        stop(proc)


@pytest.fixture
def finished_events():
    """(job id, succeeded) for every `runtime_job_finished` sent in this process (the live server)."""
    from evaluation.signals import runtime_job_finished

    events = []

    def receiver(sender, job, succeeded, **kwargs):
        events.append((job.pk, succeeded))

    runtime_job_finished.connect(receiver, weak=False)
    yield events
    runtime_job_finished.disconnect(receiver)
