"""Who sees the final numbers when: the pure rules at each milestone edge, then the same through the
pages (leaderboard, exports, a submission's numbers) for organisers, participants and the public."""

import datetime as dt

import pytest
from django.urls import reverse

from challenges import timeline
from challenges.finalphase.visibility import (
    Viewer,
    leaderboard_visible,
    own_results_visible,
    workshop_over_at,
)
from tests import html
from tests.factories import CodeSubmissionFactory, FactSheetFactory
from tests.finalphase.conftest import make_team, measured, set_milestones

UTC = dt.UTC
RELEASE = dt.datetime(2021, 3, 24, 0, 59, tzinfo=UTC)
OVER = workshop_over_at(dt.date(2021, 6, 25), "America/Los_Angeles")
TL = timeline.Timeline(
    milestones={
        timeline.K_TEST_DATA: dt.datetime(2021, 3, 11, tzinfo=UTC),
        timeline.K_FINAL_DEADLINE: dt.datetime(2021, 3, 20, tzinfo=UTC),
        timeline.K_PRELIMINARY: RELEASE,
    }
)
EPS = dt.timedelta(microseconds=1)


def visible(now, viewer, public=False):
    return leaderboard_visible(TL, now, viewer=viewer, public_after_workshop=public, over_at=OVER)


def test_workshop_over_is_midnight_after_the_last_day_in_its_zone():
    assert dt.datetime(2021, 6, 26, 7, 0, tzinfo=UTC) == OVER  # PDT is UTC−7


@pytest.mark.parametrize(
    ("now", "expected"), [(RELEASE - EPS, False), (RELEASE, True), (RELEASE + EPS, True)]
)
def test_participants_see_the_leaderboard_from_the_release_instant(now, expected):
    assert visible(now, Viewer.PARTICIPANT) is expected


def test_organisers_see_it_at_once_and_the_public_only_after_the_workshop_if_chosen():
    early = dt.datetime(2021, 3, 12, tzinfo=UTC)
    assert visible(early, Viewer.ORGANISER) is True
    assert visible(RELEASE, Viewer.PUBLIC) is False
    assert visible(OVER - EPS, Viewer.PUBLIC, public=True) is False
    assert visible(OVER, Viewer.PUBLIC, public=True) is True
    assert visible(OVER + dt.timedelta(days=300), Viewer.PUBLIC, public=False) is False


def test_no_release_milestone_means_hidden_from_participants():
    tl = timeline.Timeline(milestones={timeline.K_TEST_DATA: RELEASE})
    assert (
        leaderboard_visible(
            tl,
            RELEASE + dt.timedelta(days=999),
            viewer=Viewer.PARTICIPANT,
            public_after_workshop=False,
            over_at=OVER,
        )
        is False
    )


@pytest.mark.parametrize(
    ("early", "now", "expected"),
    [(False, RELEASE - EPS, False), (False, RELEASE, True), (True, RELEASE - dt.timedelta(days=10), True)],
)
def test_own_numbers_before_release_only_if_organisers_allow(early, now, expected):
    assert own_results_visible(TL, now, viewer=Viewer.PARTICIPANT, show_own_results_early=early) is expected


# --- Through the pages -----------------------------------------------------------------------------
@pytest.fixture
def board(challenge, team, participant, make_user):
    rival = make_team(challenge, "Team Beta", make_user(email="bob@example.org"))
    mine = measured(challenge, team, psnr=23.0, runtime_ms=40.0)
    measured(challenge, rival, psnr=22.0, runtime_ms=10.0)
    for t in (team, rival):
        FactSheetFactory(team=t)
        CodeSubmissionFactory(team=t)
    return mine


def psnr_shown(response) -> str | None:
    """The PSNR in the submission's table of numbers (None when the page shows no numbers)."""
    return html.text(response, "td", data_key="psnr")


def board_rows(response) -> list[list[str]]:
    """Rank, team, PSNR, SSIM, score, note: each row of the final leaderboard as the page shows it."""
    return html.table(response, data_testid="final-leaderboard")


def urls(challenge, submission):
    args = [challenge.workshop.slug, challenge.slug]
    return {
        "leaderboard": reverse("finalphase:leaderboard", args=args),
        "csv": reverse("finalphase:export", args=[*args, "csv"]),
        "submission": submission.get_absolute_url(),
    }


def test_before_release_participant_sees_neither_leaderboard_nor_own_numbers(
    client, challenge, participant, board
):
    u = urls(challenge, board)
    client.force_login(participant)
    r = client.get(u["leaderboard"])
    assert r.status_code == 403 and "not public yet" in r.content.decode()
    assert "Team Beta" not in r.content.decode()
    assert client.get(u["csv"]).status_code == 403
    page = client.get(u["submission"])
    hidden = html.text(page, data_testid="hidden-numbers")
    assert "The numbers are hidden until the preliminary results are released" in hidden
    assert html.element(page, data_testid="numbers") is None


def test_organiser_sees_everything_at_once(client, challenge, organiser, board):
    u = urls(challenge, board)
    client.force_login(organiser)
    rows = board_rows(client.get(u["leaderboard"]))
    assert [(r[1], r[2]) for r in rows] == [("Team Alpha", "23.00"), ("Team Beta", "22.00")]
    assert client.get(u["csv"]).content.decode().splitlines()[1].startswith("1,")


def test_from_release_participant_sees_leaderboard_and_own_rank(client, challenge, participant, board):
    set_milestones(challenge, preliminary_results=-0.001)
    client.force_login(participant)
    page = client.get(urls(challenge, board)["leaderboard"])
    assert html.text(page, data_testid="own-rank") == "Your team Team Alpha: rank 1 of 2"
    # Score 2^(2·23)/(1·40) beats 2^(2·22)/(1·10): Alpha first.
    assert [(r[0], r[1]) for r in board_rows(page)] == [("1", "Team Alpha"), ("2", "Team Beta")]
    assert psnr_shown(client.get(board.get_absolute_url())) == "23.00"


def test_own_numbers_early_when_allowed(client, challenge, participant, board):
    from challenges.finalphase.services.scores import final_settings_update

    final_settings_update(challenge=challenge, show_own_results_early=True)
    client.force_login(participant)
    assert psnr_shown(client.get(board.get_absolute_url())) == "23.00"
    assert client.get(urls(challenge, board)["leaderboard"]).status_code == 403


def test_public_after_workshop_only_if_chosen(client, challenge, make_user, board):
    from challenges.finalphase.services.scores import final_settings_update

    set_milestones(challenge, preliminary_results=-2)
    stranger = make_user(email="stranger@example.org")
    u = urls(challenge, board)
    assert client.get(u["leaderboard"]).status_code == 403  # anonymous, results released to participants
    client.force_login(stranger)
    assert client.get(u["leaderboard"]).status_code == 403
    workshop = challenge.workshop
    workshop.start_date = workshop.end_date = (dt.datetime.now(UTC) - dt.timedelta(days=3)).date()
    workshop.save()
    assert client.get(u["leaderboard"]).status_code == 403  # over, but not chosen
    final_settings_update(challenge=challenge, public_after_workshop=True)
    assert "Team Beta" in client.get(u["leaderboard"]).content.decode()
    client.logout()
    assert "Team Beta" in client.get(u["leaderboard"]).content.decode()


def test_another_team_never_reaches_a_submission_by_its_url(client, challenge, make_user, board):
    set_milestones(challenge, preliminary_results=-1)
    other = make_user(email="eve@example.org")
    make_team(challenge, "Team Eve", other)
    client.force_login(other)
    assert client.get(board.get_absolute_url()).status_code == 404
    status_url = reverse(
        "finalphase:submission-status", args=[challenge.workshop.slug, challenge.slug, board.public_id]
    )
    assert client.get(status_url).status_code == 404
    pdf = reverse(
        "finalphase:factsheet-pdf-team", args=[challenge.workshop.slug, challenge.slug, board.team_id]
    )
    assert client.get(pdf).status_code == 404
    assert (
        client.get(
            reverse("finalphase:factsheets", args=[challenge.workshop.slug, challenge.slug])
        ).status_code
        == 403
    )
    assert (
        client.get(
            reverse("finalphase:export", args=[challenge.workshop.slug, challenge.slug, "zip"])
        ).status_code
        == 403
    )


def test_files_and_the_list_of_all_submissions(client, challenge, participant, organiser, make_user, board):
    args = [challenge.workshop.slug, challenge.slug, board.public_id]
    model_url = reverse("finalphase:submission-file", args=[*args, "model"])
    client.force_login(participant)
    assert b"".join(client.get(model_url).streaming_content) == b"TFL3"
    assert client.get(reverse("finalphase:submission-file", args=[*args, "results"])).status_code == 404
    all_url = reverse("finalphase:submissions", args=[challenge.workshop.slug, challenge.slug])
    assert client.get(all_url).status_code == 403
    other = make_user(email="mallory@example.org")
    make_team(challenge, "Team Mallory", other)
    client.force_login(other)
    assert client.get(model_url).status_code == 404
    failed = measured(challenge, board.team, psnr=1, runtime_ms=1, status="failed")
    failed.error = "Fidelity: The model produced invalid numbers."
    failed.save()
    client.force_login(organiser)
    page = client.get(all_url).content.decode()
    assert "Team Alpha" in page and "Team Beta" in page and "The model produced invalid numbers." in page
    assert b"".join(client.get(model_url).streaming_content) == b"TFL3"


def test_organiser_moves_the_release_date_in_the_workshops_zone(
    client, challenge, organiser, participant, board
):
    from challenges.models import Milestone

    url = reverse("finalphase:settings", args=[challenge.workshop.slug, challenge.slug])
    client.force_login(participant)
    assert client.post(url, {"action": "release-now"}).status_code == 403
    client.force_login(organiser)
    r = client.post(url, {"action": "release", "at": "2026-03-24T17:00", "confirm": "yes"})  # a past date
    assert r.status_code == 302
    at = Milestone.objects.get(challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS).at
    assert at == dt.datetime(2026, 3, 25, 0, 0, tzinfo=UTC)  # 5pm PDT
    r = client.post(url, {"action": "release", "at": "next tuesday"})
    assert r.status_code == 400 and "Enter a valid date/time." in r.content.decode()
    assert Milestone.objects.get(challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS).at == at


def test_releasing_results_now_asks_for_confirmation_with_counts_and_warnings(
    client, challenge, organiser, participant, board, make_user
):
    """An irreversible mass action: the first post only shows what participants would see."""
    import re

    from challenges.models import Milestone

    url = reverse("finalphase:settings", args=[challenge.workshop.slug, challenge.slug])
    make_team(challenge, "Team Gamma", make_user(email="gamma@example.org"))  # nothing submitted
    measured(challenge, board.team, psnr=24.0, runtime_ms=30.0, status="running")
    planned = Milestone.objects.get(challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS).at
    client.force_login(organiser)
    page = client.post(url, {"action": "release-now"})
    html = page.content.decode()
    assert page.status_code == 200
    cell = r'data-testid="release-{}">(\d+)<'
    assert re.search(cell.format("ranked"), html).group(1) == "2"
    assert re.search(cell.format("without"), html).group(1) == "1"
    assert re.search(cell.format("measuring"), html).group(1) == "1"
    warnings = re.search(r'data-testid="release-warnings">(.*?)</ul>', html, re.S).group(1)
    assert "The final phase is still open" in warnings
    assert "1 submission(s) are still being measured" in warnings
    assert Milestone.objects.get(challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS).at == planned
    assert client.post(url, {"action": "release-now", "at": "", "confirm": "yes"}).status_code == 302
    assert Milestone.objects.get(challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS).at < planned
