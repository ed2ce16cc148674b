"""The public accepted-papers page (after release: title, authors, affiliations, abstract, BibTeX to
copy, the PDF only once the chair publishes it, challenge papers marked and linked), the chairs'
pages closed to everyone else, and a crawl of every page of the app as each role."""

import datetime as dt
import re
from collections import deque

import bibtexparser
import pytest
from django.test import Client

from conference.proceedings import services
from tests import html
from tests.proceedings.conftest import accept

CHAIR_PAGES = [
    "/mai-proc/proceedings/",
    "/mai-proc/proceedings/programme/",
    "/mai-proc/proceedings/talks/",
    "/mai-proc/proceedings/partners/",
]


def test_nothing_is_listed_before_release(client, edition):
    accept(edition, 1, "Not Yet", [("Ann Early", "ann@early.example", "Early Lab")], with_pdf=False)
    edition.papers.update(status="submitted")
    response = client.get("/mai-proc/accepted-papers/")
    assert html.text(response, data_testid="no-papers") == (
        "The accepted papers will be listed here once the decisions are released."
    )


def test_accepted_papers_grouped_by_session_with_bibtex_and_challenge_link(
    client, edition, programme, accepted
):
    response = client.get("/mai-proc/accepted-papers/")
    groups = [h.text for h in html.parse(response.content).find_all("h2")]
    assert groups == ["Session 1: Efficient models", "Session 2: Challenges"]
    card = html.element(response, data_testid="paper-2")
    assert card.find(data_testid="paper-authors").text == (
        "Jörg Müller (TU München), Alex Author (Institute of Mobile Vision)"
    )
    assert card.find(data_testid="paper-abstract").text == (
        "The abstract of Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 "
        "Challenge: Report."
    )
    mark = card.find(data_testid="challenge-mark")
    assert mark.text == "Challenge paper Learned Smartphone ISP"
    assert mark.find("a").attrs["href"] == "/mai-proc/challenges/isp/"
    entry = bibtexparser.parse_string(card.find(data_testid="bibtex").text).entries[0]
    assert (entry.key, entry["author"], entry["year"], entry["month"]) == (
        "Muller_2021_CVPR",
        "Müller, Jörg and Author, Alex",
        "2021",
        "June",
    )
    assert "pages" not in entry.fields_dict  # no proceedings built yet: no made-up pages
    button = card.find("button", class_="copy-button")
    assert (button.text, button.attrs["data-copy-target"]) == ("Copy BibTeX", "bibtex-2")
    assert card.find(data_testid="paper-pdf-pending").text == "PDF to be published"
    assert client.get("/mai-proc/accepted-papers/2.pdf").status_code == 404
    by_topic = client.get("/mai-proc/accepted-papers/?group=topic")
    assert [h.text for h in html.parse(by_topic.content).find_all("h2")] == [
        "Image enhancement",
        "Quantization",
    ]


def test_the_chair_publishes_the_pdfs_and_pages_come_from_the_proceedings(client, edition, chair, programme):
    services.export_build(export_id=services.export_request(workshop=edition, user=chair).pk)
    chair_client = Client()
    chair_client.force_login(chair)
    response = chair_client.post(
        "/mai-proc/proceedings/", {"pdfs_published": "on", "month": "June", "preface": "Welcome."}
    )
    assert response.status_code == 302
    page = client.get("/mai-proc/accepted-papers/")
    card = html.element(page, data_testid="paper-1")
    assert card.find(data_testid="paper-pdf").attrs["href"] == "/mai-proc/accepted-papers/1.pdf"
    assert bibtexparser.parse_string(card.find(data_testid="bibtex").text).entries[0]["pages"] == "6-9"
    pdf = client.get("/mai-proc/accepted-papers/1.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("role", ["visitor", "author", "reviewer"])
def test_chair_pages_are_closed_to_others(edition, make_user, reviewer, role):
    client = Client()
    if role == "author":
        client.force_login(make_user(email="alex@mobile.example"))
    elif role == "reviewer":
        client.force_login(reviewer)
    for url in CHAIR_PAGES:
        response = client.get(url)
        assert response.status_code == (302 if role == "visitor" else 403), url
    assert client.post("/mai-proc/proceedings/exports/").status_code in (302, 403)
    assert not edition.proceedings_exports.exists()


def crawl_app(client, starts: list[str]) -> tuple[dict[str, int], list[str]]:
    """Follows every link (href, hx-get) to this app's pages from `starts`; {url: status}, errors."""
    mine = re.compile(r"^/mai-proc/(accepted-papers|programme|partners|talks|proceedings)")
    seen: dict[str, int] = {}
    queue, errors = deque(starts), []
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code >= 500:
            errors.append(f"{response.status_code} {url}")
        if "text/html" in response.get("Content-Type", ""):
            for link in re.findall(r"""(?:href|hx-get)=["']([^"'#?]+)""", response.content.decode()):
                if mine.match(link) and link not in seen:
                    queue.append(link)
    return seen, errors


@pytest.mark.parametrize("role", ["visitor", "author", "reviewer", "chair"])
def test_every_page_of_the_app_answers_each_role(edition, programme, chair, reviewer, make_user, role):
    services.export_build(export_id=services.export_request(workshop=edition, user=chair).pk)
    services.proceedings_settings_update(workshop=edition, pdfs_published=True, preface="", month="June")
    client = Client()
    users = {"chair": chair, "reviewer": reviewer, "author": make_user(email="alex@mobile.example")}
    if role in users:
        client.force_login(users[role])
    starts = [
        "/mai-proc/",
        "/mai-proc/accepted-papers/",
        "/mai-proc/programme/",
        "/mai-proc/programme.ics",
        *CHAIR_PAGES,
    ]
    pages, errors = crawl_app(client, starts)
    assert errors == []
    assert pages["/mai-proc/accepted-papers/1.pdf"] == 200
    if role == "chair":  # the chair reaches every page of the app, the export's zip included
        export = edition.proceedings_exports.get()
        assert pages[f"/mai-proc/proceedings/exports/{export.pk}/download/"] == 200
        assert len([u for u in pages if u.startswith("/mai-proc/proceedings/programme/sessions/")]) == 2
    else:
        assert {pages[u] for u in CHAIR_PAGES} == ({302} if role == "visitor" else {403})


def test_the_export_button_waits_for_a_checked_camera_ready(edition, chair, make_user):
    """A chair is told how many accepted papers the export can take, and gets no button that can only fail."""
    chair_client = Client()
    chair_client.force_login(chair)
    accept(
        edition,
        1,
        "Accepted, camera-ready still missing",
        [("Alex Author", "alex@x.example", "X")],
        with_pdf=False,
    )
    page = chair_client.get("/mai-proc/proceedings/")
    assert html.text(page, data_testid="export-readiness") == (
        "1 accepted paper, 0 with a checked camera-ready PDF. Nothing to build yet: the export needs at least "
        "one checked camera-ready PDF (see camera-ready status)."
    )
    assert html.element(page, "form", action="/mai-proc/proceedings/exports/") is None
    accept(edition, 2, "Accepted with its camera-ready", [("Bo Li", "bo@x.example", "Y")])
    page = chair_client.get("/mai-proc/proceedings/")
    assert (
        html.text(page, data_testid="export-readiness")
        == "2 accepted papers, 1 with a checked camera-ready PDF."
    )
    assert html.element(page, "form", action="/mai-proc/proceedings/exports/") is not None


def test_the_bibtex_month_is_the_workshops_until_the_chair_sets_another(client, edition, chair, accepted):
    edition.start_date = edition.end_date = dt.date(2021, 10, 11)  # an ICCV workshop
    edition.save()
    card = html.element(client.get("/mai-proc/accepted-papers/"), data_testid="paper-1")
    assert bibtexparser.parse_string(card.find(data_testid="bibtex").text).entries[0]["month"] == "October"
    chair_client = Client()
    chair_client.force_login(chair)
    form = html.element(chair_client.get("/mai-proc/proceedings/"), id="id_month")
    assert form.attrs["value"] == "October"
    chair_client.post("/mai-proc/proceedings/", {"month": "Oct.", "preface": ""})
    card = html.element(client.get("/mai-proc/accepted-papers/"), data_testid="paper-1")
    assert bibtexparser.parse_string(card.find(data_testid="bibtex").text).entries[0]["month"] == "Oct."
