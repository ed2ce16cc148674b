"""Device operators: pause, drain and resume through the services, the API the CLI calls and the lab
page; the claim honours them; the lab page as each role sees it."""

import pytest
from django.contrib.auth.models import AnonymousUser

from evaluation import services
from evaluation.models import Device, DeviceHost, RuntimeJob
from evaluation.rules import is_device_operator
from tests import html
from tests.factories import RuntimeJobFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def lab():
    host = DeviceHost.objects.create(name="lab-zurich")
    other_host = DeviceHost.objects.create(name="lab-seoul")
    phone = Device.objects.create(
        slug="pixel-9", name="Pixel 9", device_host=host, accelerators=["cpu", "gpu"], status="online"
    )
    board = Device.objects.create(
        slug="rpi-4", name="Raspberry Pi 4", device_host=other_host, accelerators=["cpu"]
    )
    operator = UserFactory()
    host.operators.add(operator)
    return {"host": host, "phone": phone, "board": board, "operator": operator}


def claim(job, lab):
    return services.runtime_job_claim(
        uid=job.uid, host=lab["host"], device_slug="pixel-9", worker="w", holder="w:1"
    )


def test_who_operates_a_device(lab):
    assert is_device_operator(lab["operator"], lab["phone"]) is True
    assert is_device_operator(lab["operator"], lab["board"]) is False
    assert is_device_operator(UserFactory(), lab["phone"]) is False
    assert is_device_operator(AnonymousUser(), lab["phone"]) is False
    assert UserFactory(is_superuser=True).has_perm("evaluation.operate_device", lab["board"])
    assert not UserFactory(is_staff=True).has_perm("evaluation.operate_device", lab["board"])


def test_a_paused_device_runs_nothing_until_resumed(lab):
    job = RuntimeJobFactory(device=lab["phone"])
    services.device_operator_state_set(device="pixel-9", state="paused")
    held = claim(job, lab)
    assert (held["run"], held["paused"], held["retry_in"]) == (False, True, services.PAUSED_RETRY_S)
    assert held["reason"] == "the device is paused by its operator"
    assert RuntimeJob.objects.get(pk=job.pk).state == "queued"
    services.device_operator_state_set(device="pixel-9", state="active")
    assert claim(job, lab)["run"] is True


def test_a_draining_device_finishes_its_queue_then_pauses(lab):
    before = [RuntimeJobFactory(device=lab["phone"]) for _ in range(2)]
    services.device_operator_state_set(device="pixel-9", state="draining")
    after = RuntimeJobFactory(device=lab["phone"])  # a final-phase job, say: queued, it waits
    assert claim(after, lab)["paused"] is True
    for job in before:
        assert claim(job, lab)["run"] is True
        services.runtime_job_report(uid=job.uid, host=lab["host"], attempt=1, error="stopped")
        state = Device.objects.get(slug="pixel-9").operator_state
        assert state == ("draining" if job is before[0] else "paused")
    assert claim(after, lab)["paused"] is True
    services.device_operator_state_set(device="pixel-9", state="active")
    assert claim(after, lab)["run"] is True


def test_draining_an_idle_device_pauses_it_at_once(lab):
    assert services.device_operator_state_set(device="pixel-9", state="draining").operator_state == "paused"


def test_a_paused_device_refuses_new_checks_with_a_reason(lab, tflite_models):
    services.device_operator_state_set(device="pixel-9", state="paused")
    with pytest.raises(services.RuntimeJobRefused) as refused:
        services.runtime_job_create(
            owner=UserFactory(),
            model_file=tflite_models["conv_float"].read_bytes(),
            device="pixel-9",
            accelerator="cpu",
        )
    assert refused.value.messages == [
        "Pixel 9 is paused by its operator and takes no new jobs right now. Choose another device, or try again later."
    ]


def test_api_pause_drain_resume_for_operators_and_superusers_only(client, lab):
    url = "/api/evaluation/devices/pixel-9/{}/"
    assert client.post(url.format("pause")).status_code in (401, 403)
    client.force_login(UserFactory())
    assert client.post(url.format("pause")).status_code == 404
    client.force_login(lab["operator"])
    assert client.post("/api/evaluation/devices/rpi-4/pause/").status_code == 404  # another host's device
    RuntimeJobFactory(device=lab["phone"])
    answer = client.post(url.format("drain")).json()
    assert (answer["slug"], answer["operator_state"], answer["queue_length"], answer["status"]) == (
        "pixel-9",
        "draining",
        1,
        "offline",
    )
    assert client.post(url.format("pause")).json()["operator_state"] == "paused"
    listed = {d["slug"]: d for d in client.get("/api/evaluation/devices/").json()}
    assert (listed["pixel-9"]["operator_state"], listed["pixel-9"]["queue_length"]) == ("paused", 1)
    client.force_login(UserFactory(is_superuser=True))
    assert client.post(url.format("resume")).json()["operator_state"] == "active"


def test_lab_page_as_each_role(client, lab):
    RuntimeJobFactory(device=lab["phone"], state="failed", error_message="The device stopped answering.")
    RuntimeJobFactory(device=lab["phone"])
    assert client.get("/evaluation/lab/").status_code == 302  # anonymous: to the login page
    client.force_login(UserFactory())
    page = client.get("/evaluation/lab/").content.decode()
    phone = html.element(page, **{"data-device": "pixel-9"})
    assert html.text(phone, **{"data-testid": "queue-length"}) == "1 job"
    assert html.text(phone, **{"data-testid": "last-error"}).startswith("Last job failed (")  # not its text
    assert html.text(phone, **{"data-testid": "operator-state"}) == "Active"
    assert html.element(page, **{"data-testid": "operator-actions"}) is None  # read-only
    assert client.post("/evaluation/lab/pixel-9/pause/").status_code == 404
    client.force_login(lab["operator"])
    page = client.get("/evaluation/lab/").content.decode()
    phone = html.element(page, **{"data-device": "pixel-9"})
    assert html.text(phone, **{"data-testid": "operator-actions"}) == "Pause Drain"
    assert (
        html.element(html.element(page, **{"data-device": "rpi-4"}), **{"data-testid": "operator-actions"})
        is None
    )
    response = client.post("/evaluation/lab/pixel-9/pause/", follow=True)
    phone = html.element(response.content.decode(), **{"data-device": "pixel-9"})
    assert html.text(phone, **{"data-testid": "operator-state"}) == "Paused"
    assert html.text(phone, **{"data-testid": "operator-actions"}) == "Resume"
    client.force_login(UserFactory(is_superuser=True))
    board = html.element(client.get("/evaluation/lab/").content.decode(), **{"data-device": "rpi-4"})
    assert html.text(board, **{"data-testid": "operator-actions"}) == "Pause Drain"
