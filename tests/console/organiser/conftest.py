"""Fixtures of the organiser-console tests: an edition with a chair, a track with its organiser and
milestones around now (validation phase open), a device, and a Keras-default export (dynamic batch)."""

import datetime as dt

import pytest
from django.utils import timezone

from challenges.models import Milestone
from conference.models import Membership
from evaluation.models import Device
from tests.factories import ChallengeFactory, DeviceFactory, MembershipFactory, WorkshopFactory


@pytest.fixture
def edition(db):
    return WorkshopFactory(slug="mai-2030", short_name="MAI 2030", time_zone="America/Los_Angeles")


@pytest.fixture
def chair(edition, make_user):
    user = make_user(email="chair@mai.example", full_name="Cha Ir")
    MembershipFactory(workshop=edition, user=user, role=Membership.Role.CHAIR)
    return user


@pytest.fixture
def device(db):
    """`host-cpu` as these tests describe it, also where the session's device worker registered it
    already (under its probed name): get-or-create, then set."""
    device = DeviceFactory(slug="host-cpu")
    fields = {
        "name": "Host CPU",
        "accelerators": ["cpu", "xnnpack"],
        "status": Device.Status.ONLINE,
        "operator_state": Device.OperatorState.ACTIVE,
        "last_heartbeat": timezone.now(),
    }
    Device.objects.filter(pk=device.pk).update(**fields)
    device.refresh_from_db()
    return device


@pytest.fixture
def track(edition, make_user, device):
    """A PSNR/SSIM track in its validation phase, with one organiser (`track.organiser`)."""
    challenge = ChallengeFactory(workshop=edition, slug="denoise", title="Denoising")
    now = timezone.now()
    for kind, days in [
        ("website_online", -20),
        ("train_data", -10),
        ("validation_server", -5),
        ("test_data", 20),
        ("final_deadline", 25),
        ("factsheet_deadline", 25),
        ("preliminary_results", 27),
        ("challenge_papers", 35),
    ]:
        Milestone.objects.create(challenge=challenge, kind=kind, at=now + dt.timedelta(days=days))
    organiser = make_user(email="organiser@mai.example", full_name="Orga Niser")
    challenge.organisers.add(organiser)
    challenge.organiser = organiser
    return challenge


@pytest.fixture(scope="session")
def keras_default_tflite(tmp_path_factory):
    """A small conv net exported the Keras default way (input −1×32×32×3), converted by TensorFlow."""
    from tests.tflite_models import convert_keras, keras_default_conv

    path = tmp_path_factory.mktemp("console-models") / "keras_default.tflite"
    path.write_bytes(convert_keras(keras_default_conv()))
    return path
