"""The proceedings package as CVF open access takes it, built in one pass (called by the task
`proceedings.build_export` through `services.export_build`):

    <slug>-proceedings/
        papers/<Lastname_Title_Words_CVPRW_2021_paper>.pdf   the camera-ready PDFs, programme order
        bib/<same stem>.bib                                  one BibTeX entry per paper
        <slug>.bib                                           every entry
        metadata.csv                                         title, authors, affiliations, e-mails,
                                                             abstract, pages, licence (common.csv_export)
        index.html, style.css                                every paper with its links
        front_matter.pdf                                     title page, preface, organisers and
                                                             committee, contents, author index

Page ranges follow the programme (`selectors.papers_in_programme_order`); page counts are read from
the PDFs in the sandbox (they are uploads). The contents' page numbers are the same ranges. Papers
without a checked camera-ready PDF are left out and listed in the summary."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.template.loader import render_to_string
from django.utils import timezone

from common.csv_export import csv_text
from common.urls import absolute_url
from conference.cameraready import selectors as cameraready
from conference.models import Paper, Workshop

from . import cvf, selectors
from .isolated import PdfUnreadable, pdf_page_counts

CSV_HEADER = [
    "number",
    "title",
    "authors",
    "affiliations",
    "emails",
    "abstract",
    "pages",
    "licence",
    "file",
    "kind",
    "challenge",
]
STYLE_CSS = Path(__file__).with_name("export_index.css")
FRONT_MATTER_CSS = Path(__file__).with_name("front_matter.css")


class ExportRefused(Exception):
    """The export cannot be built; the message says why, for the chair."""


@dataclass
class ExportedPaper:
    paper: Paper
    title: str
    abstract: str
    authors: list[dict]
    licence: str
    session: str
    file_name: str = ""
    key: str = ""
    pages: cvf.PageRange | None = None
    bibtex: str = ""

    @property
    def stem(self) -> str:
        return self.file_name.removesuffix(".pdf")

    @property
    def author_names(self) -> list[str]:
        return [a["name"] for a in self.authors]

    @property
    def challenge_url(self) -> str:
        return absolute_url(self.paper.challenge.get_absolute_url()) if self.paper.challenge_id else ""


def _copy(field, target: Path) -> None:
    with field.open("rb") as source, open(target, "wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            out.write(chunk)


def author_index(papers: list[ExportedPaper]) -> list[tuple[str, list[int]]]:
    """(name as "Last, First", first pages of the author's papers), by last name."""
    pages: dict[str, list[int]] = {}
    for item in papers:
        for name in item.author_names:
            pages.setdefault(cvf.bibtex_author(name), []).append(item.pages.first)
    return sorted(
        ((name, sorted(set(p))) for name, p in pages.items()), key=lambda r: cvf.ascii_fold(r[0]).lower()
    )


def front_matter_pdf(*, workshop: Workshop, papers: list[ExportedPaper], preface: str) -> bytes:
    import weasyprint

    sessions: dict[str, list[ExportedPaper]] = {}
    for item in papers:
        sessions.setdefault(item.session, []).append(item)
    html = render_to_string(
        "proceedings/export/front_matter.html",
        {
            "workshop": workshop,
            "year": workshop.start_date.year,
            "preface": preface,
            "organisers": selectors.organisers(workshop=workshop),
            "committee": selectors.committee(workshop=workshop),
            "sessions": sessions,
            "authors": author_index(papers),
            "booktitle": cvf.booktitle(workshop.host_conference),
        },
    )
    css = weasyprint.CSS(string=FRONT_MATTER_CSS.read_text())
    return weasyprint.HTML(string=html, base_url=str(FRONT_MATTER_CSS.parent)).write_pdf(stylesheets=[css])


def build_proceedings(
    *, workshop: Workshop, target: BinaryIO, progress: Callable[[str, int, int], None] = lambda *a: None
) -> tuple[str, dict]:
    """Writes the zip to `target` (a file: the PDFs are never all in memory); returns (file name,
    summary {"papers", "pages": {paper id: "1-8"}, "total_pages", "missing": [numbers]})."""
    papers = selectors.papers_in_programme_order(workshop=workshop)
    if not papers:
        raise ExportRefused("There are no accepted papers yet (decisions are released first).")
    proceedings = selectors.proceedings_settings_for(workshop=workshop)
    sessions = selectors.paper_session_titles(workshop=workshop)
    total = len(papers) + 3
    items: list[ExportedPaper] = []
    missing: list[int] = []
    with tempfile.TemporaryDirectory(prefix="mai-proceedings-") as tmp:
        paths: list[Path] = []
        for i, paper in enumerate(papers, start=1):
            progress(f"Collecting camera-ready PDFs ({i} of {len(papers)})", i, total)
            pdf = cameraready.final_pdf(paper)
            if pdf is None:
                missing.append(paper.number)
                continue
            meta = cameraready.final_metadata(paper)
            path = Path(tmp) / f"{paper.pk}.pdf"
            _copy(pdf, path)
            paths.append(path)
            items.append(
                ExportedPaper(
                    paper=paper,
                    title=meta["title"],
                    abstract=meta["abstract"],
                    authors=meta["authors"],
                    licence=cameraready.licence(paper),
                    session=sessions.get(paper.pk, "Other papers"),
                )
            )
        if not items:
            raise ExportRefused("No accepted paper has a checked camera-ready PDF yet.")
        progress("Counting pages", len(papers) + 1, total)
        try:
            counts = pdf_page_counts(paths)
        except PdfUnreadable as exc:
            raise ExportRefused(f"A camera-ready PDF could not be read: {exc}") from None
        year, host = workshop.start_date.year, workshop.host_conference
        first_authors = [item.author_names[0] if item.author_names else "" for item in items]
        names = cvf.unique_names(
            [
                cvf.paper_file_name(first_author=a, title=item.title, host_conference=host, year=year)
                for a, item in zip(first_authors, items, strict=True)
            ]
        )
        keys = cvf.bibtex_keys(first_authors, year=year, host_conference=host)
        for item, pages, name, key in zip(items, cvf.page_ranges(counts), names, keys, strict=True):
            item.pages, item.file_name, item.key = pages, name, key
            item.bibtex = cvf.bibtex_entry(
                key=key,
                authors=item.author_names,
                title=item.title,
                month=proceedings.month,
                year=year,
                pages=pages,
                booktitle=cvf.booktitle(workshop.host_conference),
            )
        progress("Rendering the front matter", len(papers) + 2, total)
        front = front_matter_pdf(workshop=workshop, papers=items, preface=proceedings.preface)
        progress("Writing the zip", len(papers) + 3, total)
        root = f"{workshop.slug}-proceedings"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for item, path in zip(items, paths, strict=True):
                archive.write(path, f"{root}/papers/{item.file_name}", compress_type=zipfile.ZIP_STORED)
                archive.writestr(f"{root}/bib/{item.stem}.bib", item.bibtex)
            archive.writestr(f"{root}/{workshop.slug}.bib", "\n".join(item.bibtex for item in items))
            archive.writestr(f"{root}/metadata.csv", _metadata_csv(items))
            archive.writestr(
                f"{root}/index.html",
                render_to_string(
                    "proceedings/export/index.html",
                    {
                        "workshop": workshop,
                        "papers": items,
                        "booktitle": cvf.booktitle(workshop.host_conference),
                        "year": year,
                    },
                ),
            )
            archive.writestr(f"{root}/style.css", STYLE_CSS.read_text())
            archive.writestr(f"{root}/front_matter.pdf", front, compress_type=zipfile.ZIP_STORED)
    summary = {
        "papers": len(items),
        "pages": {str(item.paper.pk): str(item.pages) for item in items},
        "total_pages": items[-1].pages.last,
        "missing": missing,
        "built_at": timezone.now().isoformat(),
    }
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return f"{workshop.slug}-proceedings-{stamp}.zip", summary


def _metadata_csv(items: list[ExportedPaper]) -> str:
    return csv_text(
        (
            [
                item.paper.number,
                item.title,
                "; ".join(item.author_names),
                "; ".join(a.get("affiliation", "") for a in item.authors),
                "; ".join(a.get("email", "") for a in item.authors),
                item.abstract,
                str(item.pages),
                item.licence,
                f"papers/{item.file_name}",
                item.paper.get_kind_display(),
                item.paper.challenge.title if item.paper.challenge_id else "",
            ]
            for item in items
        ),
        header=CSV_HEADER,
    )
