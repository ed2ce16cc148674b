"""The papers API as an author's script and a chair's export use it, with a token made as on the
tokens page: submit a real PDF (the same form checks and services as the submit page), read the check
report, edit with a new version, refusals with their messages (bad PDF, bad authors, stale edit, past
deadline, read-only token), nothing stored on a refusal; chairs' CSV/JSON exports; JSON errors for
malformed ids anywhere under /api/."""

import csv
import datetime as dt
import io
import json
import uuid

import pytest
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from conference import services
from conference.models import ImportantDate, Paper
from tests import pdf_factory
from tests.conference import paper_fixtures
from tests.conference.paper_fixtures import pdf_upload
from tests.factories import ReviewFactory, api_token

edition, author, chair = paper_fixtures.edition, paper_fixtures.author, paper_fixtures.chair
pytestmark = pytest.mark.django_db
PAPERS = "/api/conference/papers/"


@pytest.fixture
def api(author):
    return Client(HTTP_AUTHORIZATION=f"Token {api_token(author, scope='submit')}")


def submission(edition, author, **overrides) -> dict:
    data = {
        "workshop": edition.slug,
        "title": "Fast ISP on phones",
        "abstract": "We make ISPs fast.",
        "topics": [edition.topics.first().pk],
        "kind": "regular",
        "authors": json.dumps(
            [
                {"name": "Alex Author", "email": author.email, "affiliation": "Institute of Mobile Vision"},
                {"name": "Bo Coauthor", "email": "bo@elsewhere.example", "affiliation": "Elsewhere Lab"},
            ]
        ),
        "pdf": pdf_upload(),
    }
    data.update(overrides)
    return data


def patch(client: Client, url: str, data: dict):
    return client.patch(url, encode_multipart(BOUNDARY, data), content_type=MULTIPART_CONTENT)


def test_an_author_submits_reads_the_check_and_edits_through_the_api(api, edition, author):
    created = api.post(PAPERS, submission(edition, author))
    assert created.status_code == 201, created.content
    paper = created.json()
    assert (paper["workshop"], paper["number"], paper["status"]) == ("mai-test", 1, "draft")
    assert [a["email"] for a in paper["authors"]] == [author.email, "bo@elsewhere.example"]
    assert [(v["number"], v["check_state"]) for v in paper["versions"]] == [(1, "pending")]
    # The check the submit page queues (run here as its task would).
    services.paper_version_check(version_id=Paper.objects.get().versions.get().pk)
    checked = api.get(f"{PAPERS}mai-test/1/").json()
    assert checked["status"] == "submitted" and checked["versions"][0]["check_state"] == "passed"
    assert checked["versions"][0]["page_count"] == 7
    assert [p["number"] for p in api.get(PAPERS).json()] == [1]

    edited = patch(
        api,
        f"{PAPERS}mai-test/1/",
        {"title": "Faster ISP on phones", "revision": checked["revision"], "pdf": pdf_upload()},
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["title"] == "Faster ISP on phones"
    assert [v["number"] for v in edited.json()["versions"]] == [2, 1]
    assert edited.json()["abstract"] == "We make ISPs fast."  # what the PATCH did not name is kept
    stale = patch(api, f"{PAPERS}mai-test/1/", {"title": "Stale", "revision": checked["revision"]})
    assert stale.status_code == 400 and stale.json()["code"] == "invalid"
    current = edited.json()["revision"]
    assert stale.json()["fields"]["revision"] == [
        f"The paper was changed (by a co-author, another client or the web page) after revision "
        f"{checked['revision']} that you sent; it is now at revision {current}. Nothing was saved: fetch "
        f"the paper again (GET /api/conference/papers/mai-test/1/), check its current values and send "
        f"your change with revision {current}."
    ]
    assert Paper.objects.get().title == "Faster ISP on phones"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"pdf": lambda: pdf_upload(pdf_factory.not_a_pdf(), name="photo.pdf")},
            "pdf",
            "This file is not a PDF",
        ),
        ({"authors": "[{"}, "authors", "Not valid JSON"),
        ({"topics": []}, "topics", "Choose at least one topic."),
    ],
)
def test_bad_input_is_refused_with_the_pages_message_and_nothing_is_stored(
    api, edition, author, overrides, field, message
):
    data = submission(edition, author, **{k: v() if callable(v) else v for k, v in overrides.items()})
    refused = api.post(PAPERS, data)
    assert refused.status_code == 400
    assert any(message in m for m in refused.json()["fields"][field]), refused.json()
    assert not Paper.objects.exists()


def test_the_submitter_must_be_an_author(api, edition, author):
    others = json.dumps([{"name": "Bo", "email": "bo@elsewhere.example", "affiliation": "Lab"}])
    refused = api.post(PAPERS, submission(edition, author, authors=others))
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("You must be one of the authors")
    assert not Paper.objects.exists()


def test_deadlines_hold_for_the_api_as_for_the_pages(api, edition, author):
    assert api.post(PAPERS, submission(edition, author)).status_code == 201
    ImportantDate.objects.filter(workshop=edition, kind="paper_deadline").update(
        at=timezone.now() - dt.timedelta(minutes=1)
    )
    late = api.post(PAPERS, submission(edition, author, title="Late paper"))
    assert late.status_code == 400
    assert late.json()["detail"].startswith("Submitting a paper is no longer possible: the deadline was")
    edit = patch(api, f"{PAPERS}mai-test/1/", {"title": "Too late"})
    assert edit.status_code == 400 and "can no longer be edited" in edit.json()["detail"]
    assert list(Paper.objects.values_list("title", flat=True)) == ["Fast ISP on phones"]


def test_a_read_token_cannot_submit(edition, author):
    reader = Client(HTTP_AUTHORIZATION=f"Token {api_token(author, scope='read')}")
    assert reader.post(PAPERS, submission(edition, author)).status_code == 403
    assert reader.get(PAPERS).json() == []
    assert not Paper.objects.exists()


def test_chairs_export_papers_and_reviews_as_csv_and_json(api, edition, author, chair):
    api.post(PAPERS, submission(edition, author))
    paper = Paper.objects.get()
    ReviewFactory(assignment__paper=paper, assignment__user=chair, assignment__number=1, rating=4)
    chairs = Client(HTTP_AUTHORIZATION=f"Token {api_token(chair, scope='read')}")
    base = f"/api/conference/workshops/{edition.slug}/export/"
    papers_csv = chairs.get(base + "papers.csv")
    assert papers_csv["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(papers_csv.content.decode())))
    assert [(r["number"], r["title"]) for r in rows] == [("1", "Fast ISP on phones")]
    reviews = chairs.get(base + "reviews.json").json()
    row = dict(zip(reviews["columns"], reviews["rows"][0], strict=True))
    assert (row["paper"], row["rating"], row["reviewer_email"]) == (1, 4, chair.email)
    decisions = chairs.get(base + "decisions.json").json()
    assert [dict(zip(decisions["columns"], r, strict=True))["outcome"] for r in decisions["rows"]] == [""]
    refused = api.get(base + "papers.csv")  # an author is no chair
    assert (
        refused.status_code == 403
        and refused.json()["detail"] == "Only the chairs of this edition export its data."
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/evaluation/jobs/not-a-uuid/",
        "/api/challenges/mai-test/isp/submissions/123/",
        f"/api/evaluation/jobs/{uuid.uuid4()}/",
        "/api/no-such-endpoint/",
        "/api/conference/workshops/mai-test/export/everything.csv",
    ],
)
def test_errors_under_api_are_json_even_for_paths_that_do_not_resolve(api, edition, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found" and response.json()["detail"]


def test_a_server_error_under_api_is_json(settings):
    settings.ROOT_URLCONF = "tests.api.broken_urls"
    response = Client(raise_request_exception=False).get("/api/broken/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert "a bug in a view" not in response.content.decode()  # nothing of the exception leaks


def test_topics_and_challenge_ids_for_a_submission_come_from_the_api(api, edition, author):
    visitor = Client()
    topics = visitor.get(f"/api/conference/workshops/{edition.slug}/topics/")
    assert topics.status_code == 200
    assert [t["name"] for t in topics.json()] == ["Efficient models", "Image enhancement", "Quantization"]
    challenges = visitor.get("/api/challenges/", {"workshop": edition.slug})
    (isp,) = [c for c in challenges.json() if c["slug"] == "isp"]
    assert visitor.get(f"/api/challenges/{edition.slug}/isp/").json()["id"] == isp["id"]

    quantization = topics.json()[2]["id"]
    created = api.post(
        PAPERS, submission(edition, author, kind="challenge", challenge=isp["id"], topics=[quantization])
    )
    assert created.status_code == 201, created.content
    paper = Paper.objects.get()
    assert (paper.kind, paper.challenge.slug) == ("challenge", "isp")
    assert created.json()["challenge"] == isp["id"]
    assert [t.name for t in paper.topics.all()] == ["Quantization"]

    unknown = visitor.get("/api/conference/workshops/no-such-edition/topics/")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "No such workshop edition.")


def test_a_chair_who_wrote_a_paper_learns_its_decision_only_when_it_is_released(edition, chair):
    """As on the pages: a chair reads the recorded decision of other papers, but of their own paper
    only once it is released to its authors."""
    from conference.reviewing.models import Decision
    from tests.factories import DecisionFactory, PaperAuthorFactory, PaperFactory

    own = PaperFactory(workshop=edition)
    PaperAuthorFactory(paper=own, user=chair, email=chair.email)
    other = PaperFactory(workshop=edition)
    DecisionFactory(paper=own, outcome=Decision.Outcome.ACCEPT)
    DecisionFactory(paper=other, outcome=Decision.Outcome.REJECT)
    chairs = Client(HTTP_AUTHORIZATION=f"Token {api_token(chair)}")
    assert chairs.get(f"{PAPERS}{edition.slug}/{other.number}/").json()["decision"] == "reject"
    assert chairs.get(f"{PAPERS}{edition.slug}/{own.number}/").json()["decision"] is None
    Decision.objects.filter(paper=own).update(released_at=timezone.now())
    assert chairs.get(f"{PAPERS}{edition.slug}/{own.number}/").json()["decision"] == "accept"
