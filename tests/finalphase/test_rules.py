"""The predicates of `challenges/finalphase/rules.py` asked directly: who sees the final leaderboard
before and after the preliminary results (organiser, participant, another team, a stranger, anonymous),
and whose team's material (model submission, fact sheet, code) a user may open."""

from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser

from challenges.finalphase.rules import can_see_final_leaderboard, is_member_of_objects_team
from tests.factories import CodeSubmissionFactory, FactSheetFactory, TeamFactory, UserFactory, team_join
from tests.finalphase.conftest import measured, set_milestones

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PEOPLE = ["organiser", "participant", "teammate", "rival", "stranger", "anonymous"]


@pytest.fixture
def cast(challenge, organiser, participant, team):
    teammate, rival = UserFactory(), UserFactory()
    team_join(team, teammate)
    TeamFactory(challenge=challenge, members=[rival])
    return SimpleNamespace(
        challenge=challenge,
        team=team,
        organiser=organiser,
        participant=participant,
        teammate=teammate,
        rival=rival,
        stranger=UserFactory(),
        anonymous=AnonymousUser(),
    )


def who_passes(predicate, cast, obj) -> set[str]:
    return {name for name in PEOPLE if predicate(getattr(cast, name), obj)}


def test_final_leaderboard_organisers_at_once_participants_from_the_release(cast):
    assert who_passes(can_see_final_leaderboard, cast, cast.challenge) == {"organiser"}
    set_milestones(cast.challenge, preliminary_results=-0.001)
    assert who_passes(can_see_final_leaderboard, cast, cast.challenge) == {
        "organiser",
        "participant",
        "teammate",
        "rival",
    }
    assert can_see_final_leaderboard(cast.organiser, None) is False


def test_team_material_belongs_to_the_teams_members(cast):
    for material in (
        measured(cast.challenge, cast.team, psnr=23.0, runtime_ms=40.0),
        FactSheetFactory(challenge=cast.challenge, team=cast.team),
        CodeSubmissionFactory(challenge=cast.challenge, team=cast.team),
    ):
        assert who_passes(is_member_of_objects_team, cast, material) == {"participant", "teammate"}
        assert who_passes(
            lambda user, obj: rules.has_perm("finalphase.view_team_material", user, obj), cast, material
        ) == {"organiser", "participant", "teammate"}
    assert is_member_of_objects_team(cast.participant, None) is False


def test_permissions_on_the_challenge(cast):
    def perm(name):
        return who_passes(lambda user, obj: rules.has_perm(name, user, obj), cast, cast.challenge)

    assert perm("finalphase.manage") == {"organiser"}
    assert perm("finalphase.view_leaderboard") == {"organiser"}
