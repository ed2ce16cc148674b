"""End to end in chromium with a real Celery worker: an accepted author uploads the camera-ready
(checked by the worker), confirms the metadata and signs the copyright form; the chair builds a
two-session programme, publishes the PDFs and exports the proceedings (built by the worker, followed
on the status page, downloaded); a visitor in Zurich sees the accepted papers and the programme with
the workshop's Pacific time and their own time beside it."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.cameraready import latex
from tests.factories import (
    DecisionFactory,
    ImportantDateFactory,
    MembershipFactory,
    PaperAuthorFactory,
    PaperFactory,
)
from tests.proceedings.conftest import accept

pytestmark = pytest.mark.django_db(transaction=True)
NAMES = {
    "Martin_Efficient_Image_Enhancement_Networks_for_Smartphone_NPUs_CVPRW_2021_paper.pdf",
    "Wei_Quantized_Super-Resolution_on_Mobile_NPUs_CVPRW_2021_paper.pdf",
}


@pytest.fixture
def edition(db):
    from tests.proceedings.conftest import WorkshopFactory

    workshop = WorkshopFactory(
        slug="mai-proc",
        name="Mobile AI Workshop 2021",
        short_name="MAI 2021",
        host_conference="CVPR 2021",
        start_date=dt.date(2021, 6, 25),
        end_date=dt.date(2021, 6, 25),
    )
    ImportantDateFactory(workshop=workshop, kind="camera_ready", at=timezone.now() + dt.timedelta(days=10))
    return workshop


@pytest.fixture
def alice(make_user):
    return make_user(email="alice@ethz.example", full_name="Alice Martin", affiliation="ETH Zurich")


@pytest.fixture
def papers(edition, alice):
    """#1 by Alice Martin (account), Bruno Keller, Chiara Rossi, accepted, no camera-ready yet; #2
    accepted with its camera-ready in place."""
    paper = PaperFactory(
        workshop=edition,
        number=1,
        title=latex.TITLE,
        abstract="We study networks for smartphone NPUs.",
        status="accepted",
    )
    for order, (name, email, user) in enumerate(
        [
            ("Alice Martin", alice.email, alice),
            ("Bruno Keller", "bruno@ethz.example", None),
            ("Chiara Rossi", "chiara@ethz.example", None),
        ]
    ):
        PaperAuthorFactory(
            paper=paper, order=order, name=name, email=email, affiliation="ETH Zurich", user=user
        )
    DecisionFactory(paper=paper, outcome="accept", released_at=timezone.now() - dt.timedelta(days=1))
    other = accept(
        edition,
        2,
        "Quantized Super-Resolution on Mobile NPUs",
        [("Chen Wei", "chen@edge.example", "Edge AI Startup")],
        pages=3,
    )
    return paper, other


def log_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")


def add_slot(page, kind, starts, ends, *, added=True, **choice):
    page.get_by_label("Kind").select_option(label=kind)
    page.get_by_label("Slot starts").fill(starts)
    page.get_by_label("Slot ends").fill(ends)
    if "paper" in choice:
        page.get_by_label("Accepted paper (paper talk)").select_option(label=choice["paper"])
    if "title" in choice:
        page.get_by_label("Title (break, challenge session)").fill(choice["title"])
    page.get_by_role("button", name="Add slot").click()
    if added:
        expect(page.locator(".messages")).to_contain_text("was added")


def add_session(page, live_server, title, starts, ends):
    page.goto(f"{live_server.url}/mai-proc/proceedings/programme/")
    page.get_by_label("Session title").fill(title)
    page.get_by_label("Room").fill("Room A")
    page.get_by_label("Starts").fill(starts)
    page.get_by_label("Ends").fill(ends)
    page.get_by_role("button", name="Add session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_camera_ready_programme_export_and_the_public_pages(
    live_server, page, browser, edition, papers, alice, make_user, password, celery_worker
):
    # The author: final PDF (checked by the worker), metadata, copyright.
    log_in(page, live_server, alice.email, password)
    page.goto(f"{live_server.url}/mai-proc/camera-ready/1/")
    page.get_by_label("Final PDF (de-anonymised)").set_input_files(
        {"name": "final.pdf", "mimeType": "application/pdf", "buffer": latex.final_paper()}
    )
    page.get_by_role("button", name="Upload the final PDF").click()
    expect(page.locator("#final-check-state")).to_have_text(re.compile("^Passed"), timeout=60_000)
    page.reload()
    expect(page.locator("#checklist-pdf")).to_contain_text("checked")
    page.get_by_role("button", name="Confirm title, authors and abstract").click()
    expect(page.locator("#checklist-metadata")).to_contain_text("confirmed")
    page.get_by_label("Your full name (signature)").fill("Alice Martin")
    page.get_by_label("All the authors").check()
    page.get_by_label("I have read the text above and agree to it for this paper").check()
    page.get_by_role("button", name=re.compile("^Sign the")).click()
    expect(page.locator("#agreement-signed")).to_contain_text("Signed by Alice Martin")
    page.context.clear_cookies()

    # The chair: a two-session programme, the PDFs published, the proceedings exported.
    chair = make_user(email="chair@chairs.example", full_name="Chris Chair")
    MembershipFactory(workshop=edition, user=chair, role="chair")
    log_in(page, live_server, chair.email, password)
    add_session(page, live_server, "Session 1: Image enhancement", "2021-06-25T08:00", "2021-06-25T09:00")
    add_slot(page, "Paper talk", "2021-06-25T08:00", "2021-06-25T08:30", paper=f"#1 {latex.TITLE}")
    add_slot(page, "Break", "2021-06-25T08:30", "2021-06-25T08:45", title="Coffee break")
    add_slot(page, "Break", "2021-06-25T08:40", "2021-06-25T08:55", title="Overlapping", added=False)
    expect(page.get_by_test_id("form-errors")).to_contain_text("overlaps “Coffee break”")
    add_session(page, live_server, "Session 2: Super-resolution", "2021-06-25T10:00", "2021-06-25T11:00")
    add_slot(
        page,
        "Paper talk",
        "2021-06-25T10:00",
        "2021-06-25T10:30",
        paper="#2 Quantized Super-Resolution on Mobile NPUs",
    )
    page.goto(f"{live_server.url}/mai-proc/proceedings/")
    page.get_by_label("Publish the camera-ready PDFs on the accepted-papers page").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Build the proceedings").click()
    expect(page.get_by_test_id("export-state")).to_have_text("Ready", timeout=60_000)
    final_pages = len(PdfReader(io.BytesIO(latex.final_paper())).pages)  # paper #1 comes first, #2 has 3
    expect(page.get_by_test_id("export-summary")).to_have_text(f"2 papers, {final_pages + 3} pages.")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    archive = zipfile.ZipFile(download.value.path())
    assert {n.rsplit("/", 1)[-1] for n in archive.namelist() if "/papers/" in n} == NAMES

    # A visitor in Zurich.
    visitor = browser.new_context(
        timezone_id="Europe/Zurich", locale="en-GB", viewport={"width": 390, "height": 844}
    )
    try:
        view = visitor.new_page()
        view.goto(f"{live_server.url}/mai-proc/accepted-papers/")
        card = view.get_by_test_id("paper-1")
        expect(card.get_by_test_id("paper-authors")).to_have_text(
            "Alice Martin (ETH Zurich), Bruno Keller (ETH Zurich), Chiara Rossi (ETH Zurich)"
        )
        expect(card.get_by_test_id("paper-pdf")).to_have_attribute("href", "/mai-proc/accepted-papers/1.pdf")
        expect(card.get_by_test_id("bibtex")).to_contain_text(f"pages     = {{1-{final_pages}}}")
        assert view.evaluate("document.documentElement.scrollWidth") <= 390  # usable on a phone
        card.get_by_role("button", name="Copy BibTeX").click()
        expect(card.locator(".copy-status")).to_have_text("Copied.")
        view.get_by_role("link", name="Programme").first.click()
        session = view.locator("section.programme-session").first
        time = session.locator(".session-meta")
        expect(time.locator("time")).to_have_text("Fri 25 June 2021, 8am Pacific Time (PDT)")
        expect(time.locator(".local-time")).to_have_text("(your time: Fri, 25 June 2021 at 17:00 CEST)")
        expect(session.locator(".paper-authors")).to_have_text("Alice Martin, Bruno Keller, Chiara Rossi")
        assert view.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        visitor.close()
