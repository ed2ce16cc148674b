"""End to end in chromium with a real Celery worker: an author submits a paper, sees the PDF check
report appear (htmx polling), edits it with a new PDF, and withdraws it."""

import re

import pytest
from playwright.sync_api import expect

from conference.models import Paper, PaperVersion
from tests import pdf_factory
from tests.conference import paper_fixtures

edition, author = paper_fixtures.edition, paper_fixtures.author
pytestmark = pytest.mark.django_db(transaction=True)


def pdf_file(data: bytes, name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


def test_author_submits_sees_the_check_edits_and_withdraws(
    live_server, page, edition, author, password, celery_worker
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(author.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/mai-test/call-for-papers/")
    page.get_by_role("link", name="Submit a paper").click()
    page.get_by_label("Title").fill("Real-time ISP on smartphones")
    page.get_by_label("Abstract").fill("We learn an ISP that runs in 30 ms.")
    page.get_by_label("Image enhancement").check()
    expect(page.get_by_label("Author 1 name")).to_have_value("Alex Author")
    page.get_by_role("button", name="Add an author").click()
    page.get_by_label("Author 4 name").fill("Bo Coauthor")
    page.get_by_label("Author 4 e-mail").fill("bo@elsewhere.example")
    page.get_by_label("Author 4 affiliation").fill("Elsewhere Lab")
    for row in (4, 3, 2):  # Bo becomes the first author
        page.get_by_role("button", name=f"Move author {row} up").click()
    expect(page.get_by_label("Author 1 name")).to_have_value("Bo Coauthor")
    expect(page.get_by_label("Author 2 e-mail")).to_have_value(author.email)
    # The first PDF forgets to anonymise the author line.
    page.get_by_label("Paper (PDF)").set_input_files(
        pdf_file(pdf_factory.paper_pdf(authors=("Alex Author",)), "isp.pdf")
    )
    page.get_by_role("button", name="Submit paper").click()
    page.wait_for_url(re.compile(r".*/mai-test/papers/1/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paper #1: Real-time ISP on smartphones")

    report = page.locator("#check-report")
    expect(report).to_contain_text("Passed with warnings", timeout=30_000)
    expect(report).to_contain_text("6 of at most 8 pages (references start on page 7).")
    expect(report).to_contain_text("The text before the references contains author name “Alex Author”")
    expect(page.locator("#paper-status")).to_have_text("Submitted")  # swapped in by the same poll
    page.reload()
    expect(page.locator("ol.authors li").first).to_contain_text("Bo Coauthor (Elsewhere Lab)")
    expect(page.locator("ol.authors li").nth(1)).to_contain_text("Alex Author")

    page.get_by_role("link", name="Edit paper").click()
    page.get_by_label("Title").fill("Real-time learned ISP on smartphones")
    page.get_by_label("New PDF").set_input_files(pdf_file(pdf_factory.paper_pdf(body_pages=5), "isp-v2.pdf"))
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your changes were saved. The new PDF is being checked.")).to_be_visible()
    expect(report).to_contain_text("PDF version 2:", timeout=30_000)
    expect(report).to_contain_text("5 of at most 8 pages")
    expect(report.locator(".badge").first).to_have_text("Passed")
    page.reload()
    expect(page.locator("table.change-log")).to_contain_text("Changed title")
    expect(page.locator("table.change-log")).to_contain_text("PDF version 2: passed")

    page.get_by_role("link", name="Withdraw").click()
    page.get_by_label("Reason").fill("Submitting to the main conference instead.")
    page.get_by_label("Yes, withdraw this paper").check()
    page.get_by_role("button", name="Withdraw paper").click()
    expect(page.get_by_text("Paper #1 was withdrawn.")).to_be_visible()
    expect(page.locator("#paper-status")).to_have_text("Withdrawn")
    expect(page.get_by_role("link", name="Edit paper")).to_have_count(0)

    paper = Paper.objects.get()
    assert paper.status == Paper.Status.WITHDRAWN
    assert list(paper.versions.values_list("number", "check_state")) == [
        (2, PaperVersion.CheckState.PASSED),
        (1, PaperVersion.CheckState.WARNINGS),
    ]
