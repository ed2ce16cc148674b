"""The PDF format checker and the review copy, on PDFs made by the test suite (no database)."""

import io

import pytest
from pypdf import PdfReader

from conference import pdfcheck
from tests import pdf_factory

RULES = pdfcheck.FormatRules()
IDENTITY = pdfcheck.Identity(
    names=("Alex Author", "Bo Coauthor"),
    emails=("alex@mobile.example",),
    affiliations=("Institute of Mobile Vision",),
)


def check(tmp_path, data: bytes, identity=IDENTITY, **kwargs) -> pdfcheck.Report:
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)
    return pdfcheck.check_pdf(path, rules=RULES, identity=identity, **kwargs)


def by_code(report) -> dict[str, dict]:
    return {item["code"]: item for item in report.items}


def test_a_conforming_anonymous_paper_passes_every_check(tmp_path):
    report = check(tmp_path, pdf_factory.paper_pdf(body_pages=8, reference_pages=2))
    items = by_code(report)
    assert report.pages == 10
    assert report.references_page == 9
    assert report.content_pages == 8
    assert report.body_font_pt == 10.0
    assert report.errors == [] and report.warnings == []
    assert items["pages"]["message"] == "8 of at most 8 pages (references start on page 9)."
    assert items["columns"]["level"] == "ok"
    assert items["text_block"]["level"] == "ok"
    assert items["fonts"]["level"] == "ok"
    assert items["anonymity_text"]["level"] == "ok"
    # WeasyPrint writes Title and Producer: reported as removed from the review copy.
    assert items["anonymity_metadata"]["level"] == "info"
    assert "Producer" in items["anonymity_metadata"]["message"]


def test_nine_pages_before_the_references_is_an_error(tmp_path):
    report = check(tmp_path, pdf_factory.paper_pdf(body_pages=9, reference_pages=1))
    assert [e["code"] for e in report.errors] == ["pages"]
    assert report.errors[0]["message"] == (
        "9 pages before the references (references start on page 10); at most 8 are allowed."
    )


def test_without_a_references_heading_every_page_counts(tmp_path):
    report = check(tmp_path, pdf_factory.paper_pdf(body_pages=9, reference_pages=0))
    assert report.references_page is None
    assert "no references section found" in report.errors[0]["message"]


def test_format_deviations_are_warnings(tmp_path):
    report = check(
        tmp_path,
        pdf_factory.paper_pdf(body_pages=3, columns=1, font_pt=9, size="a4", margin="20pt 20pt 20pt 20pt"),
    )
    items = by_code(report)
    assert report.errors == []
    assert items["page_size"]["message"] == "Pages 1–4 are not US Letter (612 × 792 pt)."
    assert items["columns"]["level"] == "warning"
    assert items["font_size"]["message"] == "The body text is 9 pt; 10 pt is required."
    assert items["text_block"]["level"] == "warning"
    assert "6⅞ × 8⅞ in block" in items["text_block"]["message"]


def test_fonts_that_are_not_embedded_are_named(tmp_path):
    report = check(tmp_path, pdf_factory.unembedded_font_pdf())
    assert by_code(report)["fonts"]["message"].startswith("Not embedded: Helvetica.")


def test_author_identity_in_text_and_metadata_is_found(tmp_path):
    data = pdf_factory.paper_pdf(
        authors=("Alex Author", "Bo Coauthor", "alex@mobile.example"), meta_author="Alex Author"
    )
    items = by_code(check(tmp_path, data))
    text = items["anonymity_text"]
    assert text["level"] == "warning"
    assert "author name “Alex Author”" in text["message"]
    assert "author name “Bo Coauthor”" in text["message"]
    assert "e-mail “alex@mobile.example”" in text["message"]
    assert items["anonymity_metadata"]["level"] == "warning"
    assert "Alex Author" in items["anonymity_metadata"]["message"]


def test_names_cited_in_the_references_are_not_flagged(tmp_path):
    # The factory's references cite "A. Researcher and B. Scientist".
    identity = pdfcheck.Identity(names=("Bob Scientist",))
    items = by_code(check(tmp_path, pdf_factory.paper_pdf(), identity=identity))
    assert items["anonymity_text"]["level"] == "ok"


def test_anonymity_is_not_checked_when_the_workshop_is_not_double_blind(tmp_path):
    items = by_code(check(tmp_path, pdf_factory.paper_pdf(authors=("Alex Author",)), double_blind=False))
    assert "anonymity_text" not in items


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty (0 bytes)."),
        (
            pdf_factory.not_a_pdf(),
            "This file is not a PDF (it does not start with %PDF-); export your paper as PDF.",
        ),
        (pdf_factory.corrupt_pdf(), "The PDF is damaged and cannot be read; export it again."),
        (
            pdf_factory.encrypted_pdf(),
            "The PDF is encrypted (password-protected); upload it without protection.",
        ),
        (
            pdf_factory.encrypted_pdf(user_password=""),
            "The PDF is encrypted (it has a security handler); upload it without protection.",
        ),
        (pdf_factory.blank_pages_pdf(500), "The PDF has 500 pages; files of more than 60 pages are refused."),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(tmp_path, data, message):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(pdfcheck.PdfRefused) as refused:
        pdfcheck.quick_inspect(path, max_pages=60)
    assert str(refused.value) == message
    report = pdfcheck.check_pdf(path, rules=RULES)
    assert report.errors == [
        {"code": "readable", "level": "error", "title": "Readable PDF", "message": message}
    ]


def test_review_copy_has_no_metadata_and_the_same_pages(tmp_path):
    source = tmp_path / "original.pdf"
    source.write_bytes(pdf_factory.paper_pdf(meta_author="Alex Author", title="Secret Title"))
    original = PdfReader(source)
    assert original.metadata["/Author"] == "Alex Author"
    destination = tmp_path / "paper-17.pdf"
    pdfcheck.make_review_copy(source, destination)
    copy = PdfReader(destination)
    assert copy.metadata in (None, {})
    assert "/Metadata" not in copy.trailer["/Root"]
    assert len(copy.pages) == len(original.pages)
    assert copy.pages[1].extract_text() == original.pages[1].extract_text()
    raw = destination.read_bytes()
    assert b"Alex Author" not in raw and b"WeasyPrint" not in raw


def test_a_thirty_page_twenty_megabyte_paper_is_checked_in_a_few_seconds(tmp_path):
    data = pdf_factory.paper_pdf(body_pages=26, reference_pages=4, image_kb_per_page=800)
    assert len(data) > 20_000_000
    report = check(tmp_path, data)
    assert report.pages == 30
    assert report.seconds < 3.0
    assert [e["code"] for e in report.errors] == ["pages"]


def test_xmp_metadata_is_searched_and_removed(tmp_path):
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter(
        clone_from=PdfReader(io.BytesIO(pdf_factory.paper_pdf(body_pages=1, reference_pages=0)))
    )
    xmp = DecodedStreamObject()
    xmp.set_data(b"<x:xmpmeta><dc:creator>Bo Coauthor</dc:creator></x:xmpmeta>")
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    source = tmp_path / "xmp.pdf"
    with open(source, "wb") as handle:
        writer.write(handle)
    report = pdfcheck.check_pdf(source, rules=RULES, identity=IDENTITY)
    assert "Bo Coauthor" in by_code(report)["anonymity_metadata"]["message"]
    pdfcheck.make_review_copy(source, tmp_path / "copy.pdf")
    assert b"Bo Coauthor" not in (tmp_path / "copy.pdf").read_bytes()


def test_a_running_head_in_the_top_margin_is_not_taken_for_the_text_block(tmp_path):
    # Pages of flowing text fill the whole 8⅞ in block; the head sits half an inch above it.
    data = pdf_factory.paper_pdf(
        body_pages=2,
        reference_pages=0,
        text_per_page=6000,
        header="CVPR 2030 Submission #17. CONFIDENTIAL REVIEW COPY. DO NOT DISTRIBUTE.",
    )
    items = by_code(check(tmp_path, data))
    assert items["text_block"]["level"] == "ok", items["text_block"]["message"]
    assert "(largest 6.70 × 8.74 in)" in items["text_block"]["message"]
    # while the same text inside the margin is caught when the body itself overflows
    wide = by_code(check(tmp_path, pdf_factory.paper_pdf(margin="20pt 20pt 20pt 20pt")))
    assert wide["text_block"]["level"] == "warning"


def test_the_isolated_check_gives_the_same_report_and_writes_the_review_copy(tmp_path):
    source = tmp_path / "paper.pdf"
    source.write_bytes(pdf_factory.paper_pdf(authors=("Alex Author",), meta_author="Alex Author"))
    inline = pdfcheck.check_pdf(source, rules=RULES, identity=IDENTITY)
    isolated = pdfcheck.check_isolated(
        source, rules=RULES, identity=IDENTITY, review_copy=tmp_path / "copy.pdf"
    )
    assert isolated.items == inline.items
    assert (isolated.pages, isolated.content_pages, isolated.body_font_pt) == (7, 6, 10.0)
    assert PdfReader(tmp_path / "copy.pdf").metadata in (None, {})


def test_a_reader_that_dies_is_a_verdict_on_the_file_not_a_dead_worker(tmp_path):
    source = tmp_path / "paper.pdf"
    source.write_bytes(pdf_factory.paper_pdf())
    # 16 MB of address space is too little to even load PDFium: the child process dies.
    report = pdfcheck.check_isolated(
        source, rules=RULES, memory_bytes=16 * 1024 * 1024, review_copy=tmp_path / "copy.pdf"
    )
    assert report.errors[0]["message"].startswith("The PDF could not be checked (the reader stopped")
    assert not (tmp_path / "copy.pdf").exists()
    with pytest.raises(pdfcheck.PdfRefused) as refused:
        pdfcheck.quick_inspect_isolated(tmp_path / "paper.pdf", max_pages=60, timeout=0.01)
    assert str(refused.value) == "The PDF could not be read (took longer than 0 s); export it again."
