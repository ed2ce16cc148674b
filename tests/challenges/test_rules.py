"""The predicates of `challenges/rules.py` asked directly: the edition's chair, a track organiser, a
site administrator, an approved participant (and one awaiting approval), a member of another team, a
stranger and an anonymous visitor; data files at their release milestones."""

import datetime as dt
from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from challenges.models import DataFile, Milestone
from challenges.rules import (
    data_file_released,
    is_approved_participant,
    is_challenge_organiser,
    is_member_of_submission_team,
)
from tests.factories import (
    ChallengeFactory,
    DataFileFactory,
    MembershipFactory,
    MilestoneFactory,
    RegistrationFactory,
    SubmissionFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PEOPLE = ["chair", "organiser", "superuser", "participant", "pending", "rival", "stranger", "anonymous"]


@pytest.fixture
def cast():
    challenge = ChallengeFactory()
    c = SimpleNamespace(
        challenge=challenge,
        chair=MembershipFactory(workshop=challenge.workshop, role="chair").user,
        organiser=UserFactory(),
        superuser=UserFactory(is_superuser=True),
        participant=UserFactory(),
        pending=UserFactory(),
        rival=UserFactory(),
        stranger=UserFactory(),
        anonymous=AnonymousUser(),
    )
    challenge.organisers.add(c.organiser)
    c.team = TeamFactory(challenge=challenge, members=[c.participant])
    TeamFactory(challenge=challenge, members=[c.rival])
    RegistrationFactory(challenge=challenge, user=c.pending, approved=False)
    c.submission = SubmissionFactory(team=c.team, submitted_by=c.participant)
    # An organiser of another track of the same edition organises nothing here.
    ChallengeFactory(workshop=challenge.workshop).organisers.add(UserFactory())
    return c


def who_passes(predicate, cast, obj) -> set[str]:
    return {name for name in PEOPLE if predicate(getattr(cast, name), obj)}


def test_organisers_are_the_tracks_own_the_editions_chairs_and_administrators(cast):
    expected = {"chair", "organiser", "superuser"}
    assert who_passes(is_challenge_organiser, cast, cast.challenge) == expected
    # Asked about an object of the challenge (a submission, a data file), the same people pass.
    assert who_passes(is_challenge_organiser, cast, cast.submission) == expected
    assert is_challenge_organiser(cast.organiser, ChallengeFactory()) is False
    assert is_challenge_organiser(cast.organiser, None) is False


def test_approved_participants_only(cast):
    assert who_passes(is_approved_participant, cast, cast.challenge) == {"participant", "rival"}
    assert is_approved_participant(cast.participant, ChallengeFactory()) is False


def test_a_submission_belongs_to_its_teams_members(cast):
    assert who_passes(is_member_of_submission_team, cast, cast.submission) == {"participant"}
    assert is_member_of_submission_team(cast.participant, None) is False


@pytest.mark.parametrize(
    ("split", "released_by"),
    [
        (DataFile.Split.TRAIN, Milestone.Kind.TRAIN_DATA),
        (DataFile.Split.VALIDATION_INPUT, Milestone.Kind.TRAIN_DATA),
        (DataFile.Split.TEST_INPUT, Milestone.Kind.TEST_DATA),
    ],
)
def test_data_is_released_at_its_milestone(cast, split, released_by):
    data = DataFileFactory(challenge=cast.challenge, split=split)
    milestone = MilestoneFactory(
        challenge=cast.challenge, kind=released_by, at=timezone.now() + dt.timedelta(hours=1)
    )
    assert data_file_released(cast.participant, data) is False
    milestone.at = timezone.now() - dt.timedelta(seconds=1)
    milestone.save()
    assert data_file_released(cast.participant, data) is True


@pytest.mark.parametrize("split", [DataFile.Split.VALIDATION_GT, DataFile.Split.TEST_GT])
def test_ground_truth_is_never_released(cast, split):
    for kind in Milestone.Kind.values:
        MilestoneFactory(challenge=cast.challenge, kind=kind, at=timezone.now() - dt.timedelta(days=1))
    assert (
        data_file_released(cast.participant, DataFileFactory(challenge=cast.challenge, split=split)) is False
    )
    assert data_file_released(cast.participant, None) is False


def test_permissions(cast):
    released = DataFileFactory(challenge=cast.challenge, split=DataFile.Split.TRAIN)
    truth = DataFileFactory(challenge=cast.challenge, split=DataFile.Split.VALIDATION_GT)
    MilestoneFactory(challenge=cast.challenge, kind=Milestone.Kind.TRAIN_DATA)

    def perm(name, obj):
        return who_passes(lambda user, o: rules.has_perm(name, user, o), cast, obj)

    organisers = {"chair", "organiser", "superuser"}
    assert perm("challenges.manage_challenge", cast.challenge) == organisers
    assert perm("challenges.download_data", released) == organisers | {"participant", "rival"}
    assert perm("challenges.download_data", truth) == organisers
    assert perm("challenges.view_submission", cast.submission) == organisers | {"participant"}
