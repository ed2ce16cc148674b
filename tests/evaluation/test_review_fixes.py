"""Fixes from the security review of evaluation, each through the path its user takes: a device host
cannot take another host's device by registering its slug; the device lab shows a failed job's text
only to those allowed to read it; a release with a non-ASCII digit gets a clear 400; a job held on a
paused device gets a deadline (moved to an active twin, or failed with the operator's reason)."""

import pytest

from evaluation.models import Device, DeviceHost
from evaluation.tokens import device_host_token
from tests import html
from tests.factories import RuntimeJobFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

REGISTER = "/api/evaluation/hosts/register/"


def _info(slug: str, name: str) -> dict:
    return {
        "slug": slug,
        "name": name,
        "platform": "android",
        "soc": "Tensor G4",
        "transport": "adb",
        "accelerators": ["cpu", "gpu"],
    }


def _register(client, host_name: str, *infos: dict):
    return client.post(
        REGISTER,
        {"devices": list(infos)},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host_token(host_name)}",
    )


def test_a_host_cannot_take_another_hosts_device_by_its_slug(client):
    assert _register(client, "lab-zurich", _info("pixel-9", "Pixel 9")).status_code == 200
    zurich = DeviceHost.objects.get(name="lab-zurich")

    taken = _register(client, "lab-seoul", _info("galaxy-s25", "Galaxy S25"), _info("pixel-9", "Mine now"))

    assert taken.status_code == 409
    answer = taken.json()
    assert answer["code"] == "device_owned_by_another_host"
    assert answer["detail"].startswith(
        "The device “pixel-9” is driven by the device host “lab-zurich”, not by “lab-seoul”; "
        "nothing was registered."
    )
    pixel = Device.objects.get(slug="pixel-9")
    assert (pixel.device_host_id, pixel.name, pixel.host) == (zurich.pk, "Pixel 9", "lab-zurich")
    assert not Device.objects.filter(slug="galaxy-s25").exists()  # all or nothing


def test_the_owning_host_registers_again_and_a_device_without_host_may_be_claimed(client):
    assert _register(client, "lab-zurich", _info("pixel-9", "Pixel 9")).status_code == 200
    again = _register(client, "lab-zurich", _info("pixel-9", "Pixel 9 Pro"))
    assert again.status_code == 200 and [d["name"] for d in again.json()] == ["Pixel 9 Pro"]

    Device.objects.create(slug="rpi-4", name="Raspberry Pi 4", accelerators=["cpu"])  # made in the admin
    claimed = _register(client, "lab-seoul", _info("rpi-4", "Raspberry Pi 4"))
    assert claimed.status_code == 200
    assert Device.objects.get(slug="rpi-4").device_host.name == "lab-seoul"
    assert Device.objects.get(slug="pixel-9").device_host.name == "lab-zurich"


def test_release_with_a_superscript_digit_is_a_clear_400(client):
    host = DeviceHost.objects.create(name="lab-zurich")
    device = Device.objects.create(slug="pixel-9", name="Pixel 9", device_host=host, accelerators=["cpu"])
    job = RuntimeJobFactory(device=device, state="running", attempts=1)
    answer = client.post(
        f"/api/evaluation/hosts/jobs/{job.uid}/release/",
        {"reason": "unplugged", "attempt": "²"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host_token('lab-zurich')}",
    )
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"attempt": ["must be a whole number"]}
    job.refresh_from_db()
    assert job.state == "running"  # nothing changed
    released = client.post(
        f"/api/evaluation/hosts/jobs/{job.uid}/release/",
        {"reason": "unplugged", "attempt": 1},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {device_host_token('lab-zurich')}",
    )
    assert released.json() == {"released": True}


def _last_error_seen_by(client, user) -> str:
    client.force_login(user)
    page = client.get("/evaluation/lab/").content.decode()
    return html.text(html.element(page, **{"data-device": "pixel-9"}), **{"data-testid": "last-error"})


def test_the_lab_shows_a_failed_jobs_text_only_to_its_owner_operators_and_superusers(client):
    host = DeviceHost.objects.create(name="lab-zurich")
    phone = Device.objects.create(slug="pixel-9", name="Pixel 9", device_host=host, accelerators=["cpu"])
    operator, owner = UserFactory(), UserFactory()
    host.operators.add(operator)
    RuntimeJobFactory(
        device=phone,
        owner=owner,
        state="failed",
        error_message="Input tensor serving_default_image:0 has shape [1, 512, 512, 3].",
    )
    secret = "Input tensor serving_default_image:0 has shape [1, 512, 512, 3]. ("
    for allowed in (owner, operator, UserFactory(is_superuser=True)):
        assert _last_error_seen_by(client, allowed).startswith(secret)
    for other in (UserFactory(), UserFactory(is_staff=True)):
        shown = _last_error_seen_by(client, other)
        assert shown.startswith("Last job failed (")
        assert "serving_default_image" not in shown
