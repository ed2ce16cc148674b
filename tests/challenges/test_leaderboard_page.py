"""The public validation leaderboard at scale: pages of 100 rows, queries per page independent of the
number of teams, the rendered page and the CSV cached and invalidated by what they show (a new score,
a renamed team, the ranking policy, the milestones), the visitor's CSRF token their own, and a cache
outage that slows the board without breaking it."""

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from challenges import services
from challenges.demo_data import results_for
from challenges.models import Milestone, Submission, Team
from config.fastpath import X_STORE
from tests.html import Element
from tests.html import parse as html_parse
from tests.html import text as html_text

from .conftest import ground_truth_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def url(challenge, name="leaderboard/"):
    return f"/{challenge.workshop.slug}/challenges/{challenge.slug}/{name}"


def board_rows(html: str) -> list[dict]:
    """The rows of the leaderboard table as a visitor reads them."""
    board = html_parse(html).find("table", id="leaderboard")
    rows = []
    for tr in board.find_all("tr"):
        cells = [c.text for c in tr.children if isinstance(c, Element) and c.tag == "td"]
        if cells and tr.attrs.get("id"):
            rows.append(
                {
                    "id": tr.attrs["id"],
                    "class": tr.attrs.get("class", ""),
                    "rank": cells[0],
                    "team": cells[1],
                    "psnr": cells[2],
                }
            )
    return rows


def element_text(html: str, element_id: str) -> str | None:
    return html_text(html, id=element_id)


def seed_board(challenge, n: int) -> list[Team]:
    """n teams, each with one scored submission; team i has PSNR 20 + i/100 (so the last is first)."""
    teams = Team.objects.bulk_create([Team(challenge=challenge, name=f"Team {i:04d}") for i in range(n)])
    now = timezone.now()
    Submission.objects.bulk_create(
        [
            Submission(
                challenge=challenge,
                team=team,
                file=f"seed/{i}.zip",
                original_name="r.zip",
                status=Submission.Status.DONE,
                scores={"psnr": 20 + i / 100, "ssim": 0.5},
                created_at=now,
            )
            for i, team in enumerate(teams)
        ]
    )
    return teams


def get(client, challenge, name="leaderboard/", **params):
    return client.get(url(challenge, name), params)


def test_pages_of_100_in_rank_order_with_a_pager(client, denoising):
    seed_board(denoising, 250)
    first = get(client, denoising)
    rows = board_rows(first.content.decode())
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 101)]
    assert rows[0]["team"] == "Team 0249" and rows[0]["psnr"] == "22.49"
    assert element_text(first.content.decode(), "leaderboard-range") == "Ranks 1–100 of 250"
    last = get(client, denoising, page=3).content.decode()
    assert board_rows(last)[0]["rank"] == "201"
    assert board_rows(last)[-1] == {
        "id": f"team-{Team.objects.get(name='Team 0000').pk}",
        "class": "",
        "rank": "250",
        "team": "Team 0000",
        "psnr": "20.00",
    }
    assert element_text(last, "leaderboard-range") == "Ranks 201–250 of 250"
    # Nonsense and out-of-range pages show a page that exists.
    assert board_rows(get(client, denoising, page="x").content.decode())[0]["rank"] == "1"
    assert board_rows(get(client, denoising, page=99).content.decode())[0]["rank"] == "201"


def _queries(client, challenge, **params) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, challenge, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def test_queries_per_page_do_not_grow_with_teams_and_a_cached_page_needs_none(denoising, scenes):
    seed_board(denoising, 10)
    seed_board(scenes, 400)
    small, _ = _queries(Client(), denoising)
    large, sqls = _queries(Client(), scenes)
    assert small == large
    assert sum('"challenges_submission"' in q for q in sqls) == 1
    warm, sqls = _queries(Client(), scenes)
    assert warm == 0  # a visitor's cached page needs no SQL at all
    # The one submission query loads only the shown columns, not files, descriptions or per-file rows.
    _, sqls = _queries(Client(), scenes, page=2)  # another page: rows cached, page rendered
    cold = Client()
    cache.clear()
    _, sqls = _queries(cold, scenes)
    (query,) = [q for q in sqls if '"challenges_submission"' in q]
    assert '"per_file"' not in query and '"method_description"' not in query and '"file"' not in query


def score_for(challenge, user, noise):
    sub = services.submission_create(
        challenge=challenge,
        user=user,
        name="r.zip",
        data=results_for(challenge.result_format, ground_truth_bytes(challenge), noise=noise),
    )
    return services.submission_score(submission_id=sub.pk)


def test_cached_page_and_csv_follow_scores_names_policy_and_milestones(client, denoising, participant):
    seed_board(denoising, 120)
    before = board_rows(get(client, denoising).content.decode())
    assert before[0]["team"] == "Team 0119"
    csv_before = get(client, denoising, "leaderboard.csv").content
    assert get(client, denoising, "leaderboard.csv").content == csv_before

    # A new best score, through the real scoring path, is on the board at once.
    user = participant(denoising, "Fresh")
    sub = score_for(denoising, user, noise=0.5)
    assert sub.status == Submission.Status.DONE and sub.scores["psnr"] > 22.5
    after = board_rows(get(client, denoising).content.decode())
    assert after[0]["team"] == "Fresh" and after[0]["psnr"] == f"{sub.scores['psnr']:.2f}"
    rows = list(csv.reader(io.StringIO(get(client, denoising, "leaderboard.csv").content.decode())))
    assert rows[1][:2] == ["1", "Fresh"] and len(rows) == 1 + 121

    # A renamed team shows its new name.
    team = Team.objects.get(name="Team 0119")
    team.name = "Renamed"
    team.save()
    assert board_rows(get(client, denoising).content.decode())[1]["team"] == "Renamed"

    # The organisers switch the policy to "latest": the later, worse submission counts.
    worse = score_for(denoising, user, noise=40.0)
    assert board_rows(get(client, denoising).content.decode())[0]["team"] == "Fresh"
    denoising.leaderboard_policy = "latest"
    denoising.save()
    fresh = [r for r in board_rows(get(client, denoising, page=2).content.decode()) if r["team"] == "Fresh"]
    assert fresh and fresh[0]["psnr"] == f"{worse.scores['psnr']:.2f}"

    # The validation server moved to the future: the board is hidden again (and its CSV).
    milestone = Milestone.objects.get(challenge=denoising, kind=Milestone.Kind.VALIDATION_SERVER)
    milestone.at = timezone.now() + timezone.timedelta(days=1)
    milestone.save()
    hidden = get(client, denoising).content.decode()
    assert element_text(hidden, "main").endswith("This leaderboard is not public yet.")
    assert get(client, denoising, "leaderboard.csv").status_code == 404


def test_participant_sees_their_row_marked_and_where_it_is(client, denoising, participant):
    teams = seed_board(denoising, 150)
    user = participant(denoising, team_name=None)
    services.team_join(challenge=denoising, user=user, code=teams[20].join_code)  # rank 130: page 2
    client.force_login(user)
    html = get(client, denoising).content.decode()
    assert element_text(html, "your-team") == "Your team “Team 0020” is ranked #130."
    assert f'href="?page=2#team-{teams[20].pk}"' in html
    assert not [r for r in board_rows(html) if r["class"]]  # not on page 1
    page2 = board_rows(get(client, denoising, page=2).content.decode())
    assert [r["team"] for r in page2 if r["class"] == "now"] == ["Team 0020"]
    # A visitor, served from the same cache, sees no marked row.
    anonymous = board_rows(Client().get(url(denoising), {"page": 2}).content.decode())
    assert not [r for r in anonymous if r["class"]]


def test_a_visitors_page_is_the_same_for_everyone_and_marked_shareable(denoising):
    """No CSRF token and no cookie in a visitor's page (so one copy serves every visitor); signing in
    still works with the log-in page's own token."""
    seed_board(denoising, 3)
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        response = visitor.get(url(denoising))
        assert "X-CSRFToken" not in response.content.decode()
        assert "csrftoken" not in response.cookies
        assert json.loads(response[X_STORE])["pk"] == denoising.pk
        visitor.get("/accounts/login/")
        login = visitor.post(
            "/accounts/login/",
            {"login": "nobody@example.org", "password": "x"},
            HTTP_X_CSRFTOKEN=visitor.cookies["csrftoken"].value,
        )
        assert login.status_code == 200  # judged (wrong password), not refused by the CSRF check


def test_the_board_still_works_when_the_cache_is_down(client, denoising):
    seed_board(denoising, 5)
    # A Redis cache that cannot be reached (nothing listens on port 1): slower, never broken.
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=dead):
        response = get(client, denoising)
        assert response.status_code == 200
        assert [r["team"] for r in board_rows(response.content.decode())][:2] == ["Team 0004", "Team 0003"]
        csv_text = get(client, denoising, "leaderboard.csv").content.decode()
        assert csv_text.splitlines()[1].startswith("1,Team 0004,")


def test_a_formula_in_a_method_name_reaches_the_public_csv_as_text(client, denoising):
    """CSV injection: anyone downloads the public board; a spreadsheet must not run a team's formula."""
    attack = '=HYPERLINK("http://evil.example/","open")'
    teams = seed_board(denoising, 2)
    Submission.objects.filter(team=teams[1]).update(method_name=attack)
    rows = list(csv.reader(io.StringIO(get(client, denoising, "leaderboard.csv").content.decode())))
    methods = {row[1]: row[-2] for row in rows[1:]}
    assert methods[teams[1].name] == "'" + attack
    assert rows[1][1] == teams[1].name  # ranked first (higher PSNR): the row is otherwise unchanged
