"""The camera-ready checks (`conference.pdfcheck.check_final_isolated`, in the sandbox) on papers
compiled by pdflatex: the final copy passes; the review version left with its ruler and confidential
head, the anonymous review version, a figure or a body font without its font file, an encrypted copy
and a file over the size limit are refused with their reason; authors missing from page 1 are a
warning."""

import pypdf

from conference.pdfcheck import FinalRules, FormatRules, Level, check_final_isolated
from tests.cameraready.latex import AUTHORS

RULES = FormatRules()
FINAL = FinalRules(author_names=AUTHORS)


def _items(report) -> dict[str, dict]:
    return {item["code"]: item for item in report.items}


def _levels(report) -> dict[str, str]:
    return {item["code"]: item["level"] for item in report.items}


def test_the_final_copy_passes_every_check(final_pdfs):
    report = check_final_isolated(final_pdfs["final_paper"], rules=RULES, final=FINAL)
    assert report.errors == [] and report.warnings == []
    items = _items(report)
    assert items["fonts"]["message"] == "Every font is embedded, figures included."
    assert items["author_names"]["message"] == "All 3 authors are named on page 1."
    assert items["review_leftovers"]["level"] == Level.OK
    assert items["page_size"]["message"] == "Every page is US Letter."
    assert report.content_pages == 8 and "anonymity_text" not in items


def test_the_review_version_with_names_is_refused_for_its_ruler_and_head(final_pdfs):
    report = check_final_isolated(final_pdfs["review_version_with_names"], rules=RULES, final=FINAL)
    items = _items(report)
    assert items["review_ruler"]["level"] == Level.ERROR
    assert items["review_ruler"]["message"].startswith(
        "The line-number ruler of the review version is still in the margins (pages 1–10)"
    )
    assert items["review_head"]["level"] == Level.ERROR
    assert "CONFIDENTIAL REVIEW COPY" in items["review_head"]["message"]
    assert items["author_names"]["level"] == Level.OK  # the names themselves are there
    assert "anonymous" not in items


def test_the_anonymous_review_version_is_refused_as_such(final_pdfs):
    report = check_final_isolated(final_pdfs["anonymous_review_version"], rules=RULES, final=FINAL)
    items = _items(report)
    assert items["anonymous"]["level"] == Level.ERROR
    assert items["anonymous"]["message"].startswith("Page 1 still says “Anonymous CVPR submission”")
    assert {"review_ruler", "review_head"} <= {item["code"] for item in report.errors}


def test_a_figure_font_that_is_not_embedded_is_refused(final_pdfs):
    path = final_pdfs["final_paper_with_unembedded_figure_font"]
    # The trap on the file itself: the figure is a form XObject whose Helvetica has no font file.
    reader = pypdf.PdfReader(path)
    figure = next(
        x.get_object()
        for page in reader.pages
        for x in page["/Resources"].get("/XObject", {}).values()
        if x.get_object()["/Subtype"] == "/Form"
    )
    font = next(iter(figure["/Resources"]["/Font"].values())).get_object()
    assert font["/BaseFont"] == "/Helvetica" and "/FontDescriptor" not in font
    report = check_final_isolated(path, rules=RULES, final=FINAL)
    fonts = _items(report)["fonts"]
    assert fonts["level"] == Level.ERROR
    assert fonts["message"].startswith("Not embedded: Helvetica.")


def test_a_body_font_mapped_without_its_file_is_refused(final_pdfs):
    report = check_final_isolated(
        final_pdfs["final_paper_with_unembedded_body_font"], rules=RULES, final=FINAL
    )
    fonts = _items(report)["fonts"]
    assert fonts["level"] == Level.ERROR
    assert fonts["message"].startswith("Not embedded: Times-Roman.")


def test_authors_missing_from_page_one_are_a_warning_not_a_refusal(final_pdfs):
    report = check_final_isolated(final_pdfs["misnamed"], rules=RULES, final=FINAL)
    assert report.errors == []
    names = _items(report)["author_names"]
    assert names["level"] == Level.WARNING
    assert names["message"].startswith("Not found on page 1: Bruno Keller, Chiara Rossi.")


def test_an_encrypted_copy_is_refused(final_pdfs, tmp_path):
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(final_pdfs["final_paper"]))
    writer.encrypt(user_password="", owner_password="owner-secret")
    path = tmp_path / "encrypted.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    report = check_final_isolated(path, rules=RULES, final=FINAL)
    assert [item["code"] for item in report.errors] == ["readable"]
    assert "encrypted" in report.errors[0]["message"]


def test_a_file_over_the_size_limit_is_refused(final_pdfs, tmp_path):
    data = final_pdfs["final_paper"].read_bytes()
    assert len(data) < 2**20  # the paper itself fits a 1 MB limit
    padded = tmp_path / "padded.pdf"
    # Valid PDF bytes followed by a comment block: a real file over the limit.
    padded.write_bytes(data + b"\n%" + b"x" * 2**20 + b"\n")
    report = check_final_isolated(padded, rules=RULES, final=FinalRules(max_bytes=2**20))
    assert [item["code"] for item in report.errors] == ["file_size"]
    assert report.errors[0]["message"].endswith("accept at most 1 MB (compress the figures).")
