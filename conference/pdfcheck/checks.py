"""The format checks and their report, in the spirit of HotCRP's format checker: readable (a PDF, not
encrypted, not corrupt), page count without the references section, page size, two-column layout,
text block and margins, body font size (to 0.1 pt), embedded fonts, and anonymity. Errors block a
submission; warnings are shown to the author and the chairs.

`check_pdf` reads the file once (`document.read_document`), sets the margin furniture apart
(`layout.mark_furniture`), then runs one named step per check, each adding its item to the report."""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .document import PAGE_SIZES_PT, Document, quick_inspect, read_document
from .identity import NO_IDENTITY, Identity, find_identity, normalise, other_emails
from .layout import (
    Segment,
    before_heading,
    is_number_furniture,
    line_count,
    mark_furniture,
    page_layouts,
    references_heading,
    two_column_document,
)
from .report import FormatRules, Level, PdfRefused, Report

BLOCK_TOLERANCE_PT = 9.0  # 1/8 in, as lenient as HotCRP's default
FONT_TOLERANCE_PT = 0.2  # sizes are measured to 0.1 pt: a 10 pt rule accepts 9.8 pt and up


def check_pdf(
    path: str | Path,
    *,
    rules: FormatRules,
    identity: Identity = NO_IDENTITY,
    double_blind: bool = True,
    max_pages: int = 60,
) -> Report:
    """Runs every check on the file at `path` and returns the report (never raises on bad PDFs)."""
    path = Path(path)
    return run_checks(
        path,
        Report(),
        max_pages=max_pages,
        started=time.perf_counter(),
        check_contents=lambda report: _check_contents(path, report, rules, identity, double_blind),
    )


def run_checks(
    path: Path, report: Report, *, max_pages: int, started: float, check_contents: Callable[[Report], None]
) -> Report:
    """The frame shared by the review and camera-ready checks: the quick inspection (a refusal is the
    report's one error), "Readable PDF", then `check_contents(report)`; a damaged file the readers choke
    on becomes an error, never an exception. The time since `started` goes into the report."""
    try:
        report.pages = quick_inspect(path, max_pages=max_pages).pages
    except PdfRefused as exc:
        report.add("readable", Level.ERROR, "Readable PDF", str(exc))
        report.seconds = round(time.perf_counter() - started, 3)
        return report
    report.add("readable", Level.OK, "Readable PDF", f"A PDF of {report.pages} pages, not encrypted.")
    try:
        check_contents(report)
    except Exception as exc:  # noqa: BLE001 - PDFium/pypdf choke on some damaged files
        report.add(
            "readable",
            Level.ERROR,
            "Readable PDF",
            f"The PDF could not be read completely ({exc.__class__.__name__}); export it again.",
        )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@dataclass
class _Body:
    """Where the body ends: the page with the "References" heading, the body lines before the heading
    on that page, the number of pages the body takes, and the layouts of those pages."""

    references_page: int | None
    content_pages: int
    overflow: list[Segment] = field(default_factory=list)
    middle: float | None = None  # the middle of the document's two columns (None: one column)
    layouts: list[dict] = field(default_factory=list)


def read_for_checks(path: Path, report: Report, rules: FormatRules) -> tuple[Document, _Body]:
    """Reads the file once, sets the margin furniture apart and finds the body (the references page
    and the body's page count go into the report). Shared with the camera-ready checks (`final`)."""
    expected = PAGE_SIZES_PT.get(rules.paper_size.strip().lower())
    document = read_document(path, expected_size=expected)
    mark_furniture(document.pages)
    layouts = page_layouts(document.pages)
    body = _find_body(document.pages, layouts, report.pages)
    report.references_page = body.references_page
    report.content_pages = body.content_pages
    return document, body


def _check_contents(
    path: Path, report: Report, rules: FormatRules, identity: Identity, double_blind: bool
) -> None:
    expected = PAGE_SIZES_PT.get(rules.paper_size.strip().lower())
    document, body = read_for_checks(path, report, rules)
    _check_page_limit(report, rules, body)
    if expected:
        _check_page_size(report, rules, document.sizes_off, expected)
    _check_columns(report, rules, body.layouts)
    _check_text_block(report, rules, body.layouts)
    _check_font_size(report, rules, body.layouts, document.pages)
    _check_fonts(report, document.fonts_not_embedded)
    if double_blind:
        _check_anonymity(report, identity, document, body)


def _find_body(pages: list[list[Segment]], layouts: dict[int, dict], page_count: int) -> _Body:
    """The body is every page before the one with the "References" heading, plus that page when body
    lines come before the heading there (however few)."""
    references_page = heading = None
    for number, segments in enumerate(pages, start=1):
        heading = references_heading(segments)
        if heading:
            references_page = number
            break
    if references_page:
        # The middle of the document's text block (the references page alone may fill one column).
        middles = sorted(lay["middle"] for lay in layouts.values())
        middle = middles[len(middles) // 2] if middles and two_column_document(layouts) else None
        overflow = before_heading(pages[references_page - 1], heading, middle)
        body = _Body(references_page, references_page if overflow else references_page - 1, overflow, middle)
    else:
        body = _Body(None, page_count)
    body.layouts = [lay for n, lay in sorted(layouts.items()) if n <= max(body.content_pages, 1)]
    body.layouts = body.layouts or list(layouts.values())
    return body


def _check_page_limit(report: Report, rules: FormatRules, body: _Body) -> None:
    counted = body.content_pages if rules.references_excluded else report.pages
    where = (
        f"references start on page {body.references_page}"
        if body.references_page
        else "no references section found"
    )
    if counted <= rules.page_limit:
        report.add(
            "pages", Level.OK, "Page limit", f"{counted} of at most {rules.page_limit} pages ({where})."
        )
    elif rules.references_excluded and body.overflow and counted == rules.page_limit + 1:
        lines = line_count(body.overflow, body.middle)
        report.add(
            "pages",
            Level.ERROR,
            "Page limit",
            f"The text runs onto page {counted}: {lines} line{'s' if lines != 1 else ''} before the "
            f"references heading ({where}); at most {rules.page_limit} pages are allowed before "
            "the references.",
        )
    else:
        report.add(
            "pages",
            Level.ERROR,
            "Page limit",
            f"{counted} pages{' before the references' if rules.references_excluded else ''} "
            f"({where}); at most {rules.page_limit} are allowed.",
        )


def _check_page_size(
    report: Report, rules: FormatRules, sizes_off: list[int], expected: tuple[float, float]
) -> None:
    if sizes_off:
        report.add(
            "page_size",
            Level.WARNING,
            "Page size",
            f"Pages {_ranges(sizes_off)} are not {rules.paper_size} "
            f"({expected[0]:.0f} × {expected[1]:.0f} pt).",
        )
    else:
        report.add("page_size", Level.OK, "Page size", f"Every page is {rules.paper_size}.")


def _check_columns(report: Report, rules: FormatRules, layouts: list[dict]) -> None:
    if not (rules.double_column and layouts):
        return
    single = [lay["page"] for lay in layouts if not lay["two_columns"]]
    if len(single) > len(layouts) / 2:
        report.add(
            "columns",
            Level.WARNING,
            "Two columns",
            f"The text is not set in two columns on pages {_ranges(single)}.",
        )
    else:
        report.add("columns", Level.OK, "Two columns", "The text is set in two columns.")


def _check_text_block(report: Report, rules: FormatRules, layouts: list[dict]) -> None:
    """The body only: rulers, running heads and page numbers lie outside the text block."""
    if not layouts:
        return
    max_w, max_h = (v * 72 for v in rules.text_block_in)
    block = f"{_inches(rules.text_block_in[0])} × {_inches(rules.text_block_in[1])} in block"
    wide = []
    for lay in layouts:
        x0, y0, x1, y1 = lay["box"]
        if x1 - x0 > max_w + BLOCK_TOLERANCE_PT or y1 - y0 > max_h + BLOCK_TOLERANCE_PT:
            wide.append((lay["page"], x1 - x0, y1 - y0))
    if wide:
        page, w, h = wide[0]
        report.add(
            "text_block",
            Level.WARNING,
            "Text block and margins",
            f"The text exceeds the {block} on pages {_ranges([p for p, _, _ in wide])} "
            f"(page {page}: {w / 72:.2f} × {h / 72:.2f} in); the margins are too small.",
        )
    else:
        widths = [lay["box"][2] - lay["box"][0] for lay in layouts]
        heights = [lay["box"][3] - lay["box"][1] for lay in layouts]
        report.add(
            "text_block",
            Level.OK,
            "Text block and margins",
            f"The text fits the {block} (largest {max(widths) / 72:.2f} × {max(heights) / 72:.2f} in).",
        )


def _check_font_size(
    report: Report, rules: FormatRules, layouts: list[dict], pages: list[list[Segment]]
) -> None:
    """The size of most of the body's characters, to 0.1 pt."""
    sizes: Counter = Counter()
    for lay in layouts:
        sizes.update(lay["sizes"])
    if sizes:
        body = sizes.most_common(1)[0][0]
        report.body_font_pt = body
        if body < rules.body_font_pt - FONT_TOLERANCE_PT - 1e-9:
            report.add(
                "font_size",
                Level.WARNING,
                "Body font size",
                f"The body text is {body:g} pt; {rules.body_font_pt:g} pt is required.",
            )
        else:
            report.add("font_size", Level.OK, "Body font size", f"The body text is {body:g} pt.")
    elif not any(segments for segments in pages):
        report.add(
            "text",
            Level.WARNING,
            "Text",
            "No text found: is the paper a scan? Reviewers and the checks need real text.",
        )


def _check_fonts(report: Report, not_embedded: set[str]) -> None:
    missing = sorted(not_embedded)
    if missing:
        report.add(
            "fonts",
            Level.WARNING,
            "Fonts embedded",
            f"Not embedded: {', '.join(missing[:8])}{'…' if len(missing) > 8 else ''}. "
            "Embed all fonts (e.g. pdflatex with the conference template does).",
        )
    else:
        report.add("fonts", Level.OK, "Fonts embedded", "Every font is embedded.")


def _check_anonymity(report: Report, identity: Identity, document: Document, body: _Body) -> None:
    """All the text before the references heading, running heads included (a head with names is a
    leak too), without ruler labels and page numbers; and the metadata."""
    pieces = []
    for segments in document.pages[: body.references_page - 1 if body.references_page else None]:
        pieces.extend(s.text for s in segments if not is_number_furniture(s))
    pieces.extend(s.text for s in body.overflow)
    body_text = normalise("\n".join(pieces))
    found = find_identity(body_text, identity)
    emails = other_emails(body_text, identity)
    if emails:
        found.append("e-mail address " + ", ".join(f"“{e}”" for e in emails[:3]))
    if found:
        report.add(
            "anonymity_text",
            Level.WARNING,
            "Anonymity of the text",
            f"The text before the references contains {'; '.join(found)}. Reviewing is "
            "double-blind: remove names, affiliations and e-mails.",
        )
    else:
        report.add(
            "anonymity_text",
            Level.OK,
            "Anonymity of the text",
            "No author name, e-mail or affiliation found in the text.",
        )
    _check_metadata_anonymity(report, identity, document)


def _check_metadata_anonymity(report: Report, identity: Identity, document: Document) -> None:
    meta_found = find_identity(normalise(document.meta_text), identity)
    if meta_found:
        report.add(
            "anonymity_metadata",
            Level.WARNING,
            "Anonymity of the metadata",
            f"The PDF metadata contains {'; '.join(meta_found)}. Reviewers get a copy with "
            "the metadata removed, but please clear it in your source too.",
        )
    elif document.meta_present:
        report.add(
            "anonymity_metadata",
            Level.INFO,
            "Metadata",
            f"Metadata fields {', '.join(document.meta_present)} are removed from the copy reviewers get.",
        )


def _ranges(pages: list[int]) -> str:
    """Page numbers as ranges: "2–4, 7"."""
    if not pages:
        return ""
    spans, start, prev = [], pages[0], pages[0]
    for page in pages[1:]:
        if page != prev + 1:
            spans.append((start, prev))
            start = page
        prev = page
    spans.append((start, prev))
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _inches(value: float) -> str:
    whole = int(value)
    frac = {0.125: "⅛", 0.25: "¼", 0.375: "⅜", 0.5: "½", 0.625: "⅝", 0.75: "¾", 0.875: "⅞"}.get(
        round(value - whole, 3)
    )
    return f"{whole}{frac}" if frac else f"{value:g}"
