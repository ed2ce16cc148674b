"""Fixtures of the evaluation tests: derived bad models, a registered host CPU, the device worker."""

import pytest

from tests.evaluation.workers import (
    TEST_HOST,
    acquire_device_worker,
    derived_models,
    release_device_worker,
    wait_for_consumer,
)


@pytest.fixture(scope="session")
def bad_models(tflite_models, tmp_path_factory):
    return derived_models(tflite_models, tmp_path_factory.mktemp("bad-models"))


@pytest.fixture
def device_host(db):
    from evaluation.models import DeviceHost

    return DeviceHost.objects.get_or_create(name=TEST_HOST)[0]


@pytest.fixture
def host_cpu(device_host):
    """The host CPU as the device worker registers it (registration through the service)."""
    from evaluation.runners.local import LocalRunner
    from evaluation.services import device_register

    return device_register(host=device_host, info=LocalRunner().probe())


@pytest.fixture(scope="session")
def device_worker(live_server, django_db_setup):
    """A device worker process serving `host-cpu`, talking to the live server; no database settings."""
    from django.conf import settings

    yield acquire_device_worker(site_url=live_server.url, broker_url=settings.CELERY_BROKER_URL)
    release_device_worker()


@pytest.fixture
def registered(transactional_db, device_worker):
    """The host CPU as the worker registered it through the API. Each transactional test flushes the
    tables; the worker registers again when its heartbeat finds its device unknown."""
    from evaluation.models import Device
    from tests.conftest import wait_for

    device = wait_for(
        lambda: Device.objects.filter(slug="host-cpu", status__in=["online", "busy"]).first(), timeout=60
    )
    wait_for_consumer("host-cpu")
    return device


@pytest.fixture
def finished_events():
    """(job id, succeeded) for every `runtime_job_finished` the test's jobs send."""
    from evaluation.signals import runtime_job_finished

    events = []

    def receiver(sender, job, succeeded, **kwargs):
        events.append((job.pk, succeeded))

    runtime_job_finished.connect(receiver, weak=False)
    yield events
    runtime_job_finished.disconnect(receiver)
