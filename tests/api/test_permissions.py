"""The API's permission matrix — every endpoint × every role — equals the pages': for each pair, what the
API answers (allowed: 2xx, or 400 for a write sent empty; refused: 401/403/404) is what the app's `rules`
predicates say, and, where a page shows the same thing, what that page answers (allowed: 200; refused: login redirect, 403, 404).
Also: reviewers never see an author's identity through the API, authors never a reviewer's."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from challenges.selectors import leaderboard_visible
from common.urls import absolute_url
from tests.api.conftest import ROLES, World
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    api: Callable[[World], str]
    allowed: Callable[[object, World], bool]  # from the rules predicates, for a user (or AnonymousUser)
    page: Callable[[World], str] | None = None  # the page that shows the same, if any
    device_host_only: bool = False


def _ws(w: World) -> str:
    return w.workshop.slug


def _ch(w: World) -> str:
    return f"{w.workshop.slug}/{w.challenge.slug}"


ENDPOINTS = [
    Endpoint("whoami", "get", lambda w: "/api/me/", lambda u, w: u.is_authenticated, lambda w: "/profile/"),
    Endpoint(
        "my papers",
        "get",
        lambda w: "/api/conference/papers/",
        lambda u, w: u.is_authenticated,
        lambda w: f"/{_ws(w)}/papers/",
    ),
    Endpoint(
        "paper",
        "get",
        lambda w: f"/api/conference/papers/{_ws(w)}/1/",
        lambda u, w: u.has_perm("conference.paper_see", w.paper),
        lambda w: f"/{_ws(w)}/papers/1/",
    ),
    Endpoint(
        "paper edit",
        "patch",
        lambda w: f"/api/conference/papers/{_ws(w)}/1/",
        lambda u, w: u.has_perm("conference.paper_edit", w.paper),
        lambda w: f"/{_ws(w)}/papers/1/edit/",
    ),
    Endpoint(
        "papers export",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/export/papers.csv",
        lambda u, w: u.has_perm("conference.manage_workshop", w.workshop),
        lambda w: f"/{_ws(w)}/papers/all/?format=csv",
    ),
    Endpoint(
        "decisions export",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/export/decisions.json",
        lambda u, w: u.has_perm("reviewing.chair_workshop", w.workshop),
        lambda w: f"/{_ws(w)}/review/decisions/",
    ),
    Endpoint(
        "topics of the call",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/topics/",
        lambda u, w: True,
        lambda w: f"/{_ws(w)}/call-for-papers/",
    ),
    Endpoint(
        "reviews export",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/export/reviews.csv",
        lambda u, w: u.has_perm("conference.manage_workshop", w.workshop),
    ),
    Endpoint(
        "reviewer's assignments",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/reviewing/assignments/",
        lambda u, w: u.has_perm("reviewing.bid_in_workshop", w.workshop),
        lambda w: f"/{_ws(w)}/review/bids/",
    ),
    Endpoint(
        "validation submission",
        "get",
        lambda w: f"/api/challenges/{_ch(w)}/submissions/{w.submission.public_id}/",
        lambda u, w: u.has_perm("challenges.view_submission", w.submission),
        lambda w: f"/{_ws(w)}/challenges/{w.challenge.slug}/submissions/{w.submission.public_id}/",
    ),
    Endpoint(
        "final leaderboard",
        "get",
        lambda w: f"/api/final/{_ch(w)}/leaderboard/",
        lambda u, w: u.has_perm("finalphase.view_leaderboard", w.challenge),
        lambda w: f"/{_ws(w)}/challenges/{w.challenge.slug}/final/leaderboard/",
    ),
    Endpoint(
        "runtime job",
        "get",
        lambda w: f"/api/evaluation/jobs/{w.job.uid}/",
        lambda u, w: u.has_perm("evaluation.view_runtimejob", w.job),
        lambda w: f"/evaluation/jobs/{w.job.uid}/",
    ),
    Endpoint(
        "challenges",
        "get",
        lambda w: f"/api/challenges/?workshop={_ws(w)}",
        lambda u, w: True,
        lambda w: f"/{_ws(w)}/challenges/",
    ),
    Endpoint(
        "challenge",
        "get",
        lambda w: f"/api/challenges/{_ch(w)}/",
        lambda u, w: True,
        lambda w: f"/{_ch(w).replace('/', '/challenges/')}/",
    ),
    Endpoint(
        "validation leaderboard",
        "get",
        lambda w: f"/api/challenges/{_ch(w)}/leaderboard/",
        lambda u, w: leaderboard_visible(challenge=w.challenge, user=u),
        lambda w: f"/{_ch(w).replace('/', '/challenges/')}/leaderboard/",
    ),
    Endpoint(
        "validation leaderboard CSV",
        "get",
        lambda w: f"/api/challenges/{_ch(w)}/leaderboard.csv",
        lambda u, w: leaderboard_visible(challenge=w.challenge, user=u),
        lambda w: f"/{_ch(w).replace('/', '/challenges/')}/leaderboard.csv",
    ),
    Endpoint(
        "team's validation submissions",
        "get",
        lambda w: f"/api/challenges/{_ch(w)}/submissions/",
        lambda u, w: u.is_authenticated,
        lambda w: f"/{_ch(w).replace('/', '/challenges/')}/submissions/",
    ),
    Endpoint(
        "final results CSV",
        "get",
        lambda w: f"/api/final/{_ch(w)}/results.csv",
        lambda u, w: u.has_perm("finalphase.view_leaderboard", w.challenge),
        lambda w: f"/{_ch(w).replace('/', '/challenges/')}/final/results.csv",
    ),
    Endpoint(
        "devices",
        "get",
        lambda w: "/api/evaluation/devices/",
        lambda u, w: True,
        lambda w: "/evaluation/devices/",
    ),
    Endpoint(
        "my runtime jobs",
        "get",
        lambda w: "/api/evaluation/jobs/",
        lambda u, w: u.has_perm("evaluation.run_runtime_check"),
        lambda w: "/evaluation/check-runtime/",
    ),
    Endpoint(
        "device heartbeat",
        "post",
        lambda w: "/api/evaluation/hosts/heartbeat/",
        lambda u, w: False,
        device_host_only=True,
    ),
    Endpoint(
        "assignments export",
        "get",
        lambda w: f"/api/conference/workshops/{_ws(w)}/export/assignments.json",
        lambda u, w: u.has_perm("conference.manage_workshop", w.workshop),
    ),
    Endpoint(
        "final results TeX",
        "get",
        lambda w: f"/api/final/{_ch(w)}/results.tex",
        lambda u, w: u.has_perm("finalphase.view_leaderboard", w.challenge),
    ),
    Endpoint(
        "team's final submissions",
        "get",
        lambda w: f"/api/final/{_ch(w)}/submissions/",
        lambda u, w: u.is_authenticated,
    ),
    Endpoint(
        "conversion formats", "get", lambda w: "/api/conversion/formats/", lambda u, w: u.is_authenticated
    ),
    Endpoint(
        "my conversions",
        "get",
        lambda w: "/api/conversion/conversions/",
        lambda u, w: u.is_authenticated,
        lambda w: "/conversion/",
    ),
    Endpoint(
        "job's model without a signed link",
        "get",
        lambda w: f"/api/evaluation/jobs/{w.job.uid}/model/",
        lambda u, w: False,
    ),
    # Writes, sent empty: allowed means past authentication and permissions (2xx, or 400 naming what the
    # body lacks); refused is 401/403/404 as for reads. Who may then do what (a team, an open phase) is
    # the services' answer, the same for page and API.
    Endpoint(
        "submit a paper",
        "post-form",
        lambda w: "/api/conference/papers/",
        lambda u, w: u.is_authenticated,
        lambda w: f"/{_ws(w)}/papers/submit/",
    ),
    Endpoint(
        "submit validation results",
        "post-form",
        lambda w: f"/api/challenges/{_ch(w)}/submissions/",
        lambda u, w: u.is_authenticated,
    ),
    Endpoint(
        "submit a final model",
        "post-form",
        lambda w: f"/api/final/{_ch(w)}/submissions/",
        lambda u, w: u.is_authenticated,
    ),
    Endpoint(
        "save the fact sheet",
        "put",
        lambda w: f"/api/final/{_ch(w)}/factsheet/",
        lambda u, w: u.is_authenticated,
    ),
    Endpoint(
        "start a runtime job",
        "post-form",
        lambda w: "/api/evaluation/jobs/",
        lambda u, w: u.has_perm("evaluation.run_runtime_check"),
        lambda w: "/evaluation/check-runtime/",
    ),
    Endpoint(
        "start a conversion",
        "post-form",
        lambda w: "/api/conversion/conversions/",
        lambda u, w: u.is_authenticated,
    ),
    Endpoint(
        "resume a device",
        "post",
        lambda w: f"/api/evaluation/devices/{w.job.device.slug}/resume/",
        lambda u, w: u.has_perm("evaluation.operate_device", w.job.device),
    ),
    Endpoint(
        "device host registers",
        "post",
        lambda w: "/api/evaluation/hosts/register/",
        lambda u, w: False,
        device_host_only=True,
    ),
    Endpoint(
        "device host reports a job",
        "post",
        lambda w: f"/api/evaluation/hosts/jobs/{w.job.uid}/report/",
        lambda u, w: False,
        device_host_only=True,
    ),
]


def _api_allows(endpoint: Endpoint, world: World, role: str) -> bool:
    client = Client()
    headers = {"HTTP_AUTHORIZATION": world.headers[role]} if world.headers[role] else {}
    url, empty_form = endpoint.api(world), "multipart/form-data; boundary=x"
    if endpoint.method == "get":
        response = client.get(url, **headers)
    elif endpoint.method == "patch":  # an edit that changes nothing: allowed or not is all it shows
        response = client.patch(url, b"", content_type=empty_form, **headers)
    elif endpoint.method == "post-form":
        response = client.post(url, b"", content_type=empty_form, **headers)
    elif endpoint.method == "put":
        response = client.put(url, {}, content_type="application/json", **headers)
    else:
        response = client.post(url, {"devices": []}, content_type="application/json", **headers)
    allowed = (200, 201) if endpoint.method == "get" else (200, 201, 400)
    assert response.status_code in (*allowed, 401, 403, 404), (endpoint.name, role, response.content)
    assert response["Content-Type"].startswith(("application/json", "text/csv", "application/x-tex")), (
        endpoint.name,
        role,
    )
    if response.status_code >= 400:
        assert response.json()["detail"], (endpoint.name, role)
    return response.status_code in allowed


def _page_allows(endpoint: Endpoint, world: World, role: str) -> bool:
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    response = client.get(endpoint.page(world))
    assert response.status_code in (200, 302, 403, 404), (endpoint.name, role, response.status_code)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/"), (endpoint.name, role)
    return response.status_code == 200


def test_every_endpoint_for_every_role_answers_as_the_rules_and_the_pages(world):
    expected, api, pages = {}, {}, {}
    for endpoint in ENDPOINTS:
        for role in ROLES:
            user = world.users[role] or AnonymousUser()
            key = (endpoint.name, role)
            expected[key] = (
                role == "device_host" if endpoint.device_host_only else endpoint.allowed(user, world)
            )
            api[key] = _api_allows(endpoint, world, role)
            if endpoint.page is not None:
                pages[key] = _page_allows(endpoint, world, role)
    assert api == expected
    assert pages == {key: expected[key] for key in pages}
    # The matrix is not trivially all-yes or all-no: spot-check what each role may do.
    assert [r for r in ROLES if expected[("paper", r)]] == ["author", "coauthor", "chair"]
    assert [r for r in ROLES if expected[("paper edit", r)]] == ["author", "coauthor"]
    assert [r for r in ROLES if expected[("reviewer's assignments", r)]] == [
        "reviewer",
        "conflicted_reviewer",
    ]
    assert [r for r in ROLES if expected[("validation submission", r)]] == [
        "participant",
        "organiser",
        "chair",
    ]
    assert [r for r in ROLES if expected[("runtime job", r)]] == ["participant"]
    assert [r for r in ROLES if expected[("final results CSV", r)]] == ["organiser", "chair"]
    assert all(expected[("validation leaderboard", r)] for r in ROLES)  # public since validation opened
    assert [r for r in ROLES if not expected[("my runtime jobs", r)]] == ["anonymous", "device_host"]
    assert [r for r in ROLES if expected[("resume a device", r)]] == ["operator"]
    assert [r for r in ROLES if api[("device host reports a job", r)]] == ["device_host"]


def test_whoami_lists_roles_per_edition(world):
    me = Client(HTTP_AUTHORIZATION=world.headers["chair"]).get("/api/me/").json()
    assert (me["email"], me["name"]) == ("chad@chairs.example", "Chad Chair")
    assert me["roles"] == [{"workshop": "mai-api", "workshop_title": str(world.workshop), "roles": ["chair"]}]
    assert Client(HTTP_AUTHORIZATION=world.headers["author"]).get("/api/me/").json()["roles"] == []


def test_a_user_token_on_a_device_host_endpoint_is_told_what_is_needed(world):
    response = Client().post(
        "/api/evaluation/hosts/heartbeat/",
        {"devices": []},
        content_type="application/json",
        HTTP_AUTHORIZATION=world.headers["participant"],
    )
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This endpoint needs a device-host token")
    assert "credentials were not provided" not in response.json()["detail"]


def test_reviewers_never_see_authors_and_authors_never_see_reviewers(world):
    reviewer = Client(HTTP_AUTHORIZATION=world.headers["reviewer"])
    assigned = reviewer.get(f"/api/conference/workshops/{world.workshop.slug}/reviewing/assignments/")
    assert [(a["paper"], a["title"], a["review_state"]) for a in assigned.json()] == [
        (1, "Fast denoising on phones", "submitted")
    ]
    for identity in ("Ada", "ada@lab.example", "Lab of Ada", "Cole", "other.example"):
        assert identity not in assigned.content.decode()
    assert reviewer.get(f"/api/conference/papers/{world.workshop.slug}/1/").status_code == 404

    author = Client(HTTP_AUTHORIZATION=world.headers["author"])
    url = f"/api/conference/papers/{world.workshop.slug}/1/"
    before = author.get(url).json()
    assert before["decision"] is None and before["reviews"] == []
    DecisionFactory(paper=world.paper, outcome="accept", released_at=timezone.now())
    after = author.get(url)
    assert after.json()["decision"] == "accept"
    assert [(r["reviewer"], r["comments_to_authors"]) for r in after.json()["reviews"]] == [
        ("Reviewer 1", "Please add latency on more phones.")
    ]
    for identity in ("Rita", "rita@review.example", "review.example"):
        assert identity not in after.content.decode()


def test_a_caller_without_a_team_is_told_where_to_register(world):
    """The API has no registration (terms are accepted on the page): a submission without a team is
    refused with the page's address."""
    author = Client(HTTP_AUTHORIZATION=world.headers["author"])
    results = SimpleUploadedFile("results.zip", b"PK\x05\x06" + b"\0" * 18, content_type="application/zip")
    answer = author.post(f"/api/challenges/{_ch(world)}/submissions/", {"file": results})
    page = absolute_url(f"/{world.workshop.slug}/challenges/{world.challenge.slug}/")
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        "Register for this challenge first.",
        f"Registration (accepting the terms) and teams are on the challenge's page: {page}",
    ]
    assert not world.challenge.submissions.filter(team__memberships__user=world.users["author"]).exists()
