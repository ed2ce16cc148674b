"""Reviewers open the supplementary material of their papers, anonymised like the paper: a neutral
name, PDF metadata stripped, zips re-packed without comments, timestamps, extra fields or macOS
metadata files — all made in the sandbox from what authors really upload."""

import io
import struct
import zipfile

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from conference.models import PaperAuthor
from conference.reviewing.models import SupplementaryCopy
from tests.pdf_factory import paper_pdf
from tests.reviewing.test_double_blind import crawl, identities, readable

pytestmark = pytest.mark.django_db
URL = "/rev-test/review/papers/1/supplementary/"


def attach(paper, data: bytes, name: str):
    version = paper.versions.get()
    version.supplementary.save(name, ContentFile(data), save=True)
    return version


def authors_zip() -> bytes:
    """A zip as a Mac user's Finder makes it: comments, extended timestamps, AppleDouble files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = b"Packed by Alice Authorson, University of Anonymia"
        code = zipfile.ZipInfo("code/run.py", date_time=(2021, 3, 1, 17, 42, 7))
        code.comment = b"alice@uni-a.edu"
        code.extra = struct.pack("<HHBl", 0x5455, 5, 1, 1614620527)  # UT: modification time
        archive.writestr(code, "print('latency', 12.5)\n")
        archive.writestr("results/table.pdf", paper_pdf(body_pages=1, meta_author="Alice Authorson"))
        archive.writestr("__MACOSX/code/._run.py", b"\x00\x05\x16\x07 com.apple.quarantine alice")
        archive.writestr("code/.DS_Store", b"Bud1 alice")
    return out.getvalue()


def download(client):
    response = client.get(URL)
    assert response.status_code == 200, response.status_code
    return response, b"".join(response.streaming_content)


def test_a_reviewer_gets_the_zip_repacked_without_identity(client, reviewed):
    attach(reviewed["papers"][0], authors_zip(), "Alice-Authorson-supplement.zip")
    client.force_login(reviewed["reviewers"]["rita"])
    response, body = download(client)
    assert response["Content-Disposition"] == 'attachment; filename="paper-1-supplementary.zip"'
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.comment == b""
    assert [i.filename for i in archive.infolist()] == ["code/run.py", "results/table.pdf"]
    for info in archive.infolist():
        assert (info.date_time, info.comment, info.extra) == ((1980, 1, 1, 0, 0, 0), b"", b"")
    assert archive.read("code/run.py") == b"print('latency', 12.5)\n"
    table = PdfReader(io.BytesIO(archive.read("results/table.pdf")))
    assert not table.metadata or "/Author" not in table.metadata
    assert len(table.pages) == 2  # the same pages
    copy = SupplementaryCopy.objects.get()
    assert copy.report["dropped_count"] == 2 and copy.report["pdfs_stripped"] == 1
    # Made once, then served as stored.
    download(client)
    assert SupplementaryCopy.objects.count() == 1


def test_a_pdf_supplementary_loses_its_metadata(client, reviewed):
    original = paper_pdf(body_pages=2, meta_author="Alice Authorson")
    assert "Alice Authorson" in str(PdfReader(io.BytesIO(original)).metadata.get("/Author"))
    attach(reviewed["papers"][0], original, "appendix.pdf")
    client.force_login(reviewed["reviewers"]["sam"])
    response, body = download(client)
    assert response["Content-Disposition"] == 'attachment; filename="paper-1-supplementary.pdf"'
    reader = PdfReader(io.BytesIO(body))
    assert not reader.metadata or "/Author" not in reader.metadata
    assert len(reader.pages) == len(PdfReader(io.BytesIO(original)).pages)


def test_only_the_paper_s_reviewers_and_chairs_open_it(client, reviewed):
    attach(reviewed["papers"][0], authors_zip(), "s.zip")
    for user, status in [
        (reviewed["reviewers"]["ursula"], 404),  # conflicted with #1
        (reviewed["reviewers"]["tom"], 404),  # not assigned
        (reviewed["author"], 404),  # authors use their own pages
        (reviewed["chair"], 200),
    ]:
        client.force_login(user)
        assert client.get(URL).status_code == status, user.email
    client.force_login(reviewed["reviewers"]["rita"])
    assert client.get("/rev-test/review/papers/2/supplementary/").status_code == 404  # not hers


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 this is not really a zip", "is not a readable ZIP archive"),
        (None, "The archive holds an unsafe path: ../outside.txt"),
    ],
)
def test_an_archive_that_cannot_be_made_safe_is_refused_with_a_reason(client, reviewed, data, message):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("../outside.txt", "x")
        data = out.getvalue()
    attach(reviewed["papers"][0], data, "s.zip")
    client.force_login(reviewed["reviewers"]["rita"])
    response = client.get(URL, follow=True)
    assert response.redirect_chain[-1][0] == "/rev-test/review/papers/1/"
    shown = [str(m) for m in response.context["messages"]]
    assert any(message in m for m in shown), shown


def test_the_leak_crawl_reaches_the_supplementary_material(client, reviewed):
    attach(reviewed["papers"][0], authors_zip(), "Alice-Authorson-supplement.zip")
    client.force_login(reviewed["reviewers"]["rita"])
    pages = crawl(client)
    assert URL in pages
    secrets = identities(PaperAuthor.objects.all())
    for url, response in pages.items():
        text = readable(*response).lower()
        assert not [s for s in secrets if s in text], url
