"""The camera-ready profile of the format checker: the checks IEEE Xplore and CVF Open Access apply to
a final, de-anonymised paper. The format checks of the review phase (page limit, columns, text block,
body font size) without the anonymity check, and stricter or new ones:

- at most `max_bytes` (10 MB by default), not encrypted (the quick inspection refuses that);
- US Letter on every page (an error here, a warning for the review copy);
- every font embedded, those used inside figures (form XObjects) included (an error here);
- no line-number ruler and no "CONFIDENTIAL REVIEW COPY" head left over from the review template;
- no "Anonymous" author block (the review version uploaded again);
- the authors named on page 1 match the paper's author list (a warning naming the missing ones).

No Django here: the sandboxed child imports this module."""

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .checks import (
    _check_columns,
    _check_font_size,
    _check_page_limit,
    _check_text_block,
    _ranges,
    read_for_checks,
    run_checks,
)
from .document import PAGE_SIZES_PT, Document
from .identity import normalise
from .layout import Segment, is_digits
from .report import FormatRules, Level, Report

# A review ruler: at least this many three-digit labels in the margins of one page.
RULER_MIN_LABELS = 10
RULER_LABEL_RE = re.compile(r"\d{3}(?:\s+\d{3})*")
TITLE_BLOCK_PT = 216.0  # the top 3 in of page 1's text: title, authors, affiliations
REVIEW_HEAD_RE = re.compile(r"confidential\s+review\s+copy|do\s+not\s+distribute", re.I)
ANONYMOUS_RE = re.compile(
    r"^\s*anonymous(?:\s+(?:\w+\s+)?(?:submission|authors?))?\s*(?:\d+)?\s*$|"
    r"\banonymous\s+(?:\w+\s+)?submission\b",
    re.I,
)


@dataclass(frozen=True)
class FinalRules:
    """What the camera-ready adds to the edition's format rules: the file size limit and the paper's
    author names in order (compared with page 1)."""

    max_bytes: int = 10 * 1024 * 1024
    author_names: tuple[str, ...] = ()


def check_final_pdf(
    path: str | Path, *, rules: FormatRules, final: FinalRules, max_pages: int = 60
) -> Report:
    """Runs the camera-ready checks on the file at `path` (never raises on bad PDFs)."""
    started = time.perf_counter()
    report = Report()
    path = Path(path)
    size = path.stat().st_size if path.exists() else 0
    if size > final.max_bytes:
        report.add(
            "file_size",
            Level.ERROR,
            "File size",
            f"The PDF is {size / 2**20:.1f} MB; IEEE Xplore and CVF accept at most "
            f"{final.max_bytes / 2**20:.0f} MB (compress the figures).",
        )
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def check_contents(report: Report) -> None:
        report.add(
            "file_size",
            Level.OK,
            "File size",
            f"{size / 2**20:.1f} MB of at most {final.max_bytes / 2**20:.0f} MB.",
        )
        _check_final_contents(path, report, rules, final)

    return run_checks(path, report, max_pages=max_pages, started=started, check_contents=check_contents)


def _check_final_contents(path: Path, report: Report, rules: FormatRules, final: FinalRules) -> None:
    document, body = read_for_checks(path, report, rules)
    _check_page_limit(report, rules, body)
    expected = PAGE_SIZES_PT.get(rules.paper_size.strip().lower())
    if expected:
        _check_page_size_strict(report, rules, document.sizes_off)
    _check_columns(report, rules, body.layouts)
    _check_text_block(report, rules, body.layouts)
    _check_font_size(report, rules, body.layouts, document.pages)
    _check_fonts_embedded(report, document.fonts_not_embedded)
    _check_review_leftovers(report, document)
    first_page = normalise("\n".join(s.text for s in document.pages[0])) if document.pages else ""
    anonymous = _check_not_anonymous(report, document.pages[0] if document.pages else [])
    if not anonymous:
        _check_author_names(report, first_page, final.author_names)


def _check_page_size_strict(report: Report, rules: FormatRules, sizes_off: list[int]) -> None:
    if sizes_off:
        report.add(
            "page_size",
            Level.ERROR,
            "Page size",
            f"Pages {_ranges(sizes_off)} are not {rules.paper_size}; the proceedings need every page "
            f"in {rules.paper_size}.",
        )
    else:
        report.add("page_size", Level.OK, "Page size", f"Every page is {rules.paper_size}.")


def _check_fonts_embedded(report: Report, not_embedded: set[str]) -> None:
    """PDFium's font objects of the page text and of every form XObject (figures included)."""
    missing = sorted(not_embedded)
    if missing:
        report.add(
            "fonts",
            Level.ERROR,
            "Fonts embedded",
            f"Not embedded: {', '.join(missing[:8])}{'…' if len(missing) > 8 else ''}. IEEE Xplore "
            "refuses papers with fonts that are not embedded; check the figures too (export them "
            "with fonts embedded or as outlines), then compile again.",
        )
    else:
        report.add("fonts", Level.OK, "Fonts embedded", "Every font is embedded, figures included.")


def _ruler_pages(pages: list[list[Segment]]) -> list[int]:
    """Pages carrying a line-number ruler: many three-digit labels set apart as margin furniture."""
    found = []
    for number, segments in enumerate(pages, start=1):
        labels = sum(
            1 for s in segments if s.furniture and is_digits(s) and RULER_LABEL_RE.fullmatch(s.text.strip())
        )
        if labels >= RULER_MIN_LABELS:
            found.append(number)
    return found


def _check_review_leftovers(report: Report, document: Document) -> None:
    ruler = _ruler_pages(document.pages)
    heads = [
        number
        for number, segments in enumerate(document.pages, start=1)
        if any(REVIEW_HEAD_RE.search(normalise(s.text)) for s in segments)
    ]
    if ruler:
        report.add(
            "review_ruler",
            Level.ERROR,
            "Review ruler",
            f"The line-number ruler of the review version is still in the margins (pages {_ranges(ruler)}); "
            "compile the final version with the template's final option (e.g. \\cvprfinalcopy).",
        )
    if heads:
        report.add(
            "review_head",
            Level.ERROR,
            "Review header",
            f"The “CONFIDENTIAL REVIEW COPY” header of the review version is still on pages {_ranges(heads)}; "
            "compile the final version with the template's final option.",
        )
    if not ruler and not heads:
        report.add("review_leftovers", Level.OK, "Final layout", "No review ruler and no review header.")


def _check_not_anonymous(report: Report, first_page: list[Segment]) -> bool:
    """True (an error added) when the title block (the top of page 1) still names "Anonymous" authors."""
    top = max((s.y1 for s in first_page if not s.furniture), default=0.0)
    for segment in first_page:
        if segment.furniture or segment.y1 < top - TITLE_BLOCK_PT:
            continue
        if ANONYMOUS_RE.search(normalise(segment.text)):
            report.add(
                "anonymous",
                Level.ERROR,
                "Authors named",
                f"Page 1 still says “{segment.text.strip()[:80]}”: this is the anonymous review version. "
                "The camera-ready names every author with their affiliation.",
            )
            return True
    return False


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip().lower()


def _check_author_names(report: Report, first_page: str, names: tuple[str, ...]) -> None:
    """Each listed author's name (or its initial-and-surname form) on page 1; a warning names the
    missing ones (a typo or a different spelling there is the authors' call, not a refusal)."""
    if not names:
        return
    page = f" {_folded(first_page)} "
    missing = []
    for name in names:
        parts = _folded(name).split()
        if not parts:
            continue
        forms = {" ".join(parts)}
        if len(parts) >= 2:
            forms.add(f"{parts[0][0]} {' '.join(parts[1:])}")
        if not any(f" {form} " in page for form in forms):
            missing.append(name)
    if missing:
        report.add(
            "author_names",
            Level.WARNING,
            "Authors on page 1",
            f"Not found on page 1: {', '.join(missing)}. The proceedings list the authors as confirmed "
            "on the camera-ready page; make page 1 and that list agree.",
        )
    else:
        report.add(
            "author_names", Level.OK, "Authors on page 1", f"All {len(names)} authors are named on page 1."
        )
