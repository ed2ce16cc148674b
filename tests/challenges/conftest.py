"""Fixtures of the challenge tests: the seeded live edition's tracks, participants in teams."""

import datetime as dt

import pytest
from django.utils import timezone

from challenges import services
from challenges.models import Challenge, DataFile, Milestone
from tests.factories import WorkshopFactory


@pytest.fixture
def live(db):
    """The live edition with only the challenges' part of the demo seed (fast): the six tracks, their
    milestones around today (validation phase open) and their generated data."""
    from challenges.seed import seed_demo
    from conference.seed import PACIFIC

    today = timezone.localdate(timezone=PACIFIC)
    workshop = WorkshopFactory(
        slug="mai-live",
        name="Mobile AI Workshop (live demo)",
        short_name="MAI Live",
        host_conference="CVPR",
        start_date=today + dt.timedelta(days=90),
    )
    seed_demo()
    return workshop


@pytest.fixture
def denoising(live) -> Challenge:
    """Image denoising of the live edition: validation phase open now, generated data stored."""
    return Challenge.objects.get(workshop=live, slug="image-denoising")


@pytest.fixture
def depth(live) -> Challenge:
    return Challenge.objects.get(workshop=live, slug="depth-estimation")


@pytest.fixture
def scenes(live) -> Challenge:
    return Challenge.objects.get(workshop=live, slug="scene-detection")


def ground_truth_bytes(challenge, split=DataFile.Split.VALIDATION_GT) -> bytes:
    f = challenge.data_files.get(split=split)
    with f.file.open("rb") as fh:
        return fh.read()


def move(challenge, kind, at):
    """Moves a milestone as organisers do (saved, so what depends on it — cached leaderboards — follows)."""
    for milestone in Milestone.objects.filter(challenge=challenge, kind=kind):
        milestone.at = at
        milestone.save(update_fields=["at"])


@pytest.fixture
def participant(make_user):
    """make participant(challenge, team_name=…) → a registered user in a (new) team."""

    def make(challenge, team_name="Team A", **user_kwargs):
        user = make_user(**user_kwargs)
        services.challenge_register(challenge=challenge, user=user, accept_terms=True)
        if team_name:
            services.team_create(challenge=challenge, user=user, name=team_name)
        return user

    return make


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def hours():
    return lambda n: dt.timedelta(hours=n)
