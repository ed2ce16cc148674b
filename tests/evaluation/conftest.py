"""Fixtures of the evaluation tests: derived bad models, a registered host CPU, the device worker."""

import pytest

from tests.evaluation.workers import (
    TEST_HOST,
    derived_models,
    purge_device_queue,
    start_device_worker,
    stop,
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

    from evaluation.tokens import device_host_token

    purge_device_queue("host-cpu")
    proc = start_device_worker(site_url=live_server.url, token=device_host_token(TEST_HOST),
                               broker_url=settings.CELERY_BROKER_URL, name="device-worker")
    yield proc
    stop(proc)


@pytest.fixture
def registered(transactional_db, device_worker):
    """The host CPU as the worker registered it through the API. Each transactional test flushes the
    tables; the worker registers again when its heartbeat finds its device unknown."""
    from evaluation.models import Device
    from tests.conftest import wait_for

    device = wait_for(lambda: Device.objects.filter(slug="host-cpu", status__in=["online", "busy"]).first(),
                      timeout=60)
    wait_for_consumer("host-cpu")
    return device
