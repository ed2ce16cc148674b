"""Fixtures of the final-phase tests: a workshop with one track whose final phase is open, teams with
members, hidden test data generated with numpy, and measured submissions made directly in the database
(for leaderboard and visibility tests that do not need the workers)."""

import datetime as dt
import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from challenges.models import DataFile, Milestone
from tests.factories import (
    ChallengeFactory,
    CodeSubmissionFactory,
    FactSheetFactory,
    MembershipFactory,
    TeamFactory,
    WorkshopFactory,
)

K = Milestone.Kind


@pytest.fixture
def workshop(db):
    return WorkshopFactory(
        slug="mai-test",
        name="Mobile AI Test Workshop",
        short_name="MAI Test",
        host_conference="CVPR",
        start_date=timezone.now().date() + dt.timedelta(days=30),
    )


def set_milestones(challenge, **offsets):
    """Milestones relative to now, e.g. test_data=-1 (days; floats allowed), or absolute datetimes."""
    now = timezone.now()
    for kind, value in offsets.items():
        at = value if isinstance(value, dt.datetime) else now + dt.timedelta(days=value)
        Milestone.objects.update_or_create(challenge=challenge, kind=kind, defaults={"at": at})


@pytest.fixture
def challenge(workshop):
    ch = ChallengeFactory(
        workshop=workshop,
        slug="isp",
        title="Learned Smartphone ISP",
        target_platform="Host CPU",
        input_shape=[1, 32, 32, 3],
        input_dtype="float32",
        output_shape=[1, 32, 32, 3],
        output_dtype="float32",
        metrics=[
            {"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2},
            {"key": "ssim", "label": "SSIM", "higher_is_better": True, "precision": 4},
        ],
        max_team_size=3,
    )
    set_milestones(
        ch,
        website_online=-30,
        train_data=-29,
        validation_server=-28,
        test_data=-1,
        final_deadline=2,
        factsheet_deadline=3,
        preliminary_results=5,
        challenge_papers=10,
    )
    return ch


@pytest.fixture
def organiser(make_user, challenge):
    user = make_user(email="chair@example.org", full_name="Radu Chair")
    MembershipFactory(workshop=challenge.workshop, user=user, role="chair")
    return user


def make_team(challenge, name, *users):
    """A team of registered (approved) users, the first its leader."""
    return TeamFactory(challenge=challenge, name=name, members=users)


@pytest.fixture
def participant(make_user):
    return make_user(email="ada@example.org", full_name="Ada Lovelace", affiliation="ETH Zürich")


@pytest.fixture
def team(challenge, participant):
    return make_team(challenge, "Team Alpha", participant)


def npz_bytes(arrays: dict) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def hidden_data(challenge, *, inputs: dict, truth: dict) -> None:
    for split, arrays, title in (
        (DataFile.Split.TEST_INPUT, inputs, "Test inputs"),
        (DataFile.Split.TEST_GT, truth, "Test ground truth"),
    ):
        data = npz_bytes(arrays)
        f = DataFile(challenge=challenge, split=split, title=title, size=len(data))
        f.file.save(f"{split}.npz", ContentFile(data), save=False)
        f.save()


def reference_outputs(model_path, inputs: dict) -> dict:
    """What the model itself outputs (run in the sandbox), so ground truth can be built around it."""
    from challenges.finalphase.fidelity import run_model

    return {k: v[0] for k, v in run_model(model_path, inputs).items()}


def measured(
    challenge,
    team,
    *,
    psnr,
    runtime_ms,
    ssim=0.9,
    memory_mb=10.0,
    power_w=None,
    score=None,
    created_at=None,
    selected=False,
    status="done",
):
    """A submission as the workers leave it, written directly (for leaderboard and visibility tests)."""
    from challenges.finalphase.models import ModelSubmission
    from challenges.finalphase.services.scores import final_settings_get, score_compute

    s = ModelSubmission(
        challenge=challenge,
        team=team,
        model_size=4,
        status=status,
        fidelity_status="done",
        runtime_status="done",
        metrics={"psnr": psnr, "ssim": ssim},
        runtime_ms=runtime_ms,
        memory_mb=memory_mb,
        power_w=power_w,
        device_name="Host CPU",
        selected=selected,
    )
    s.model.save("model.tflite", ContentFile(b"TFL3"), save=False)
    s.save()
    if status == "done":
        s.score, s.score_error = (
            (score, "")
            if score is not None
            else score_compute(submission=s, settings=final_settings_get(challenge=challenge))
        )
    if created_at is not None:
        s.created_at = created_at
    s.save()
    return s


def complete_for_ranking(team):
    """The fact sheet and the code that ranking requires."""
    FactSheetFactory(
        team=team,
        members=[{"name": "Ada", "affiliation": "ETH"}],
        contact_name="Ada",
        method_title=f"{team.name} Net",
        method_description="A small U-Net.",
    )
    CodeSubmissionFactory(team=team, repository_url="https://example.org/c")
