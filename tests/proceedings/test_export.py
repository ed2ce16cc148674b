"""The proceedings zip, opened and checked as CVF would: file names, page ranges that follow the
programme and match each PDF's page count, BibTeX parsed back with bibtexparser field by field, the
metadata CSV, index.html's links, and the front matter's contents (read with pypdf) giving the same
page ranges."""

import csv
import datetime as dt
import io
import re
import zipfile

import bibtexparser
import pytest
from django.utils import timezone
from pypdf import PdfReader

from conference.proceedings import services
from conference.proceedings.models import ProceedingsExport
from tests import html
from tests.html import line_with

BOOKTITLE = (
    "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR) Workshops"
)
NAMES = {
    3: "Wei_Quantized_Super-Resolution_Its_8-bit_Friends_CVPRW_2021_paper.pdf",
    1: "Author_Real-Time_Learned_ISP_for_Smartphone_Cameras_CVPRW_2021_paper.pdf",
    2: "Muller_Fast_Camera_Image_Denoising_on_Mobile_GPUs_With_Deep_Learning_CVPRW_2021_paper.pdf",
}


@pytest.fixture
def built(edition, chair, programme, reviewer):
    services.proceedings_settings_update(
        workshop=edition, pdfs_published=False, preface="Welcome to MAI 2021.", month="June"
    )
    export = services.export_request(workshop=edition, user=chair)
    assert export.state == ProceedingsExport.State.QUEUED
    export = services.export_build(export_id=export.pk)
    assert export.state == ProceedingsExport.State.DONE, export.error
    with export.archive.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    return export, archive


def read(archive, name) -> bytes:
    return archive.read(f"mai-proc-proceedings/{name}")


def test_papers_are_named_cvf_style_and_paged_in_programme_order(built):
    export, archive = built
    names = sorted(n.removeprefix("mai-proc-proceedings/") for n in archive.namelist())
    assert names == sorted(
        [
            *(f"papers/{n}" for n in NAMES.values()),
            *(f"bib/{n.removesuffix('.pdf')}.bib" for n in NAMES.values()),
            "mai-proc.bib",
            "metadata.csv",
            "index.html",
            "style.css",
            "front_matter.pdf",
        ]
    )
    # Programme order is #3 (5 pages), #1 (4 pages), #2 (3 pages): ranges follow each PDF's real count.
    expected_first = 1
    for number in (3, 1, 2):
        pages = len(PdfReader(io.BytesIO(read(archive, f"papers/{NAMES[number]}"))).pages)
        entry = bibtexparser.parse_string(
            read(archive, f"bib/{NAMES[number].removesuffix('.pdf')}.bib").decode()
        )
        assert entry.entries[0]["pages"] == f"{expected_first}-{expected_first + pages - 1}"
        expected_first += pages
    assert expected_first - 1 == 12
    assert export.summary["total_pages"] == 12


def test_bibtex_parses_back_field_by_field(built):
    _, archive = built
    library = bibtexparser.parse_string(read(archive, "mai-proc.bib").decode())
    assert library.failed_blocks == []
    entries = {e.key: e for e in library.entries}
    assert list(entries) == ["Wei_2021_CVPR", "Author_2021_CVPR", "Muller_2021_CVPR"]
    wei, author, muller = entries.values()
    assert wei.entry_type.lower() == "inproceedings"
    assert {k: f.value for k, f in wei.fields_dict.items()} == {
        "author": "Wei, Chen",
        "title": r"Quantized Super-Resolution \& Its 8-bit Friends",
        "booktitle": BOOKTITLE,
        "month": "June",
        "year": "2021",
        "pages": "1-5",
    }
    assert author["author"] == "Author, Alex and Li, Bo"
    assert author["pages"] == "6-9"
    assert muller["author"] == "Müller, Jörg and Author, Alex"
    assert muller["title"] == (
        "Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 Challenge: Report"
    )
    assert muller["pages"] == "10-12"


def test_metadata_csv_and_index(built):
    _, archive = built
    rows = list(csv.DictReader(io.StringIO(read(archive, "metadata.csv").decode())))
    assert [r["number"] for r in rows] == ["3", "1", "2"]
    challenge_row = rows[2]
    assert challenge_row["authors"] == "Jörg Müller; Alex Author"
    assert challenge_row["affiliations"] == "TU München; Institute of Mobile Vision"
    assert challenge_row["emails"] == "jorg@tum.example; alex@mobile.example"
    assert challenge_row["pages"] == "10-12"
    assert challenge_row["kind"] == "Challenge paper"
    assert challenge_row["challenge"] == "Learned Smartphone ISP"
    assert challenge_row["file"] == f"papers/{NAMES[2]}"
    index = read(archive, "index.html").decode()
    links = set(re.findall(r'href="([^"]+)"', index))
    for name in NAMES.values():
        assert f"papers/{name}" in links
        assert f"bib/{name.removesuffix('.pdf')}.bib" in links
    assert "http://testserver/mai-proc/challenges/isp/" in links or any(
        link.endswith("/mai-proc/challenges/isp/") for link in links
    )


def toc_range(lines: list[str], title_start: str) -> str:
    """The page range the contents show for the paper whose title starts with `title_start`: the first
    line after the title's that is a range ("1–5")."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title_start))
    return next(line for line in lines[start + 1 :] if re.fullmatch(r"\d+–\d+", line))


def test_front_matter_contents_match_the_page_ranges(built):
    _, archive = built
    data = read(archive, "front_matter.pdf")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    lines = [line.strip() for line in text.splitlines()]
    assert reader.metadata.title == "Mobile AI Workshop 2021: Proceedings front matter"
    contents = lines[lines.index("Contents") :]
    assert toc_range(contents, "Quantized Super-Resolution") == "1–5"
    assert toc_range(contents, "Real-Time Learned ISP") == "6–9"
    assert toc_range(contents, "Fast Camera Image Denoising") == "10–12"
    assert line_with(text, "Challenge paper:") == "Challenge paper: Learned Smartphone ISP"
    # The author index: last name first, every first page.
    assert line_with(text, "Author, Alex") == "Author, Alex 6, 10"
    assert line_with(text, "Müller, Jörg") == "Müller, Jörg 10"
    assert line_with(text, "Rita Reviewer") == "Rita Reviewer, Vision Lab"
    assert "Welcome to MAI 2021." in lines


def test_a_paper_without_camera_ready_is_left_out_and_named(edition, chair, accepted):
    from tests.proceedings.conftest import accept

    accept(edition, 4, "Late Paper", [("Lee Late", "lee@late.example", "Late Lab")], with_pdf=False)
    export = services.export_build(export_id=services.export_request(workshop=edition, user=chair).pk)
    assert export.state == ProceedingsExport.State.DONE
    assert export.summary["missing"] == [4]
    assert export.summary["papers"] == 3


def test_no_accepted_paper_fails_with_the_reason(edition, chair):
    export = services.export_build(export_id=services.export_request(workshop=edition, user=chair).pk)
    assert export.state == ProceedingsExport.State.FAILED
    assert export.error == "There are no accepted papers yet (decisions are released first)."


def test_the_sweep_fails_an_export_nobody_advances_but_waits_for_the_broker(edition, chair, client):
    from common.models import Dispatch

    export = services.export_request(workshop=edition, user=chair)
    long_ago = timezone.now() - dt.timedelta(hours=2)
    ProceedingsExport.objects.filter(pk=export.pk).update(heartbeat_at=long_ago)
    assert services.exports_sweep() == 0  # its message still waits for the broker: left alone
    Dispatch.objects.filter(task="proceedings.build_export").update(sent_at=long_ago)
    assert services.exports_sweep() == 1
    export.refresh_from_db()
    assert export.state == ProceedingsExport.State.FAILED
    client.force_login(chair)
    page = client.get(f"/mai-proc/proceedings/exports/{export.pk}/")
    assert html.text(page, data_testid="export-error") == (
        "No worker advanced this export in time (its message was lost or the worker stopped); start a new one."
    )
    # A new export can be started; a message delivered again for the failed one does nothing.
    assert services.export_request(workshop=edition, user=chair).pk != export.pk
    assert services.export_build(export_id=export.pk).state == ProceedingsExport.State.FAILED
