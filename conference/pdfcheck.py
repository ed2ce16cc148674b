"""The PDF format checker of paper submissions (no Django models: plain inputs, a JSON-able report),
and the anonymised review copy.

Checks, in the spirit of HotCRP's format checker: readable (a PDF, not encrypted, not corrupt),
page count without the references section, page size, two-column layout, text block and margins,
body font size (to 0.1 pt), embedded fonts, and anonymity (authors' names, e-mails and affiliations
as whole words and phrases in the text or the metadata, quoted with their context; the chairs'
`not_identities` such as device makers are never an identity on their own). The page is read as a
layout, not as a character count: PDFium's runs of text with their boxes, from which margin furniture
(the review template's line-number ruler, running heads, page numbers) is set apart; the body is the
rest, the references start where their heading is on the page, and any body line after the page
limit and before that heading is overflow. pypdfium2 (PDFium, C++) reads text and geometry; pypdf
reads fonts and metadata and writes the review copy. Errors block a submission; warnings are shown
to the author and the chairs.

`quick_inspect` is the cheap synchronous part an upload form runs before accepting a file (magic
bytes, opens, not encrypted, page count within a hard cap); `check_pdf` is the full check, run in
a Celery task. The site calls both through `quick_inspect_isolated` / `check_isolated`, which run
them in the sandbox (`common.sandbox`; see the end of this module).
"""

import re
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

PAGE_SIZES_PT = {"us letter": (612.0, 792.0), "letter": (612.0, 792.0), "a4": (595.28, 841.89)}
SIZE_TOLERANCE_PT = 3.0
BLOCK_TOLERANCE_PT = 9.0  # 1/8 in, as lenient as HotCRP's default
FONT_TOLERANCE_PT = 0.2  # sizes are measured to 0.1 pt: a 10 pt rule accepts 9.8 pt and up
REFERENCES_RE = re.compile(
    r"^\s*(?:\d{1,2}\.?\s*)?(references|bibliography|literature cited)\s*$", re.I | re.M
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class Level:
    ERROR = "error"
    WARNING = "warning"
    OK = "ok"
    INFO = "info"


@dataclass(frozen=True)
class FormatRules:
    page_limit: int = 8
    references_excluded: bool = True
    paper_size: str = "US Letter"
    double_column: bool = True
    body_font_pt: float = 10.0
    text_block_in: tuple[float, float] = (6.875, 8.875)


@dataclass(frozen=True)
class Identity:
    """What must not appear in an anonymous submission."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    # Words and phrases that are never an identity on their own (device makers, datasets), set by the
    # chairs per edition: a match lying wholly inside one of them is not reported.
    not_identities: tuple[str, ...] = ()


def parse_word_list(text: str) -> tuple[str, ...]:
    """A chair's list of words and phrases, one per line or comma-separated, blanks dropped."""
    return tuple(dict.fromkeys(w.strip() for w in re.split(r"[,;\n]", text or "") if w.strip()))


@dataclass
class Report:
    items: list[dict] = field(default_factory=list)
    pages: int = 0
    content_pages: int | None = None
    references_page: int | None = None
    body_font_pt: float | None = None
    seconds: float = 0.0

    def add(self, code: str, level: str, title: str, message: str) -> None:
        self.items.append({"code": code, "level": level, "title": title, "message": message})

    @property
    def errors(self) -> list[dict]:
        return [i for i in self.items if i["level"] == Level.ERROR]

    @property
    def warnings(self) -> list[dict]:
        return [i for i in self.items if i["level"] == Level.WARNING]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["error_count"] = len(self.errors)
        data["warning_count"] = len(self.warnings)
        return data


class PdfRefused(Exception):
    """The file cannot be accepted at all (the message says why, for the author)."""


@dataclass(frozen=True)
class QuickInfo:
    pages: int


def quick_inspect(path: str | Path, *, max_pages: int) -> QuickInfo:
    """The blocking checks an upload form runs synchronously (milliseconds even for large files)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise PdfRefused("The file is empty (0 bytes).")
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise PdfRefused("This file is not a PDF (it does not start with %PDF-); export your paper as PDF.")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfRefused(
                "The PDF is encrypted (password-protected); upload it without protection."
            ) from exc
        raise PdfRefused("The PDF is damaged and cannot be read; export it again.") from exc
    try:
        if raw.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
            raise PdfRefused(
                "The PDF is encrypted (it has a security handler); upload it without protection."
            )
        pages = len(pdf)
    finally:
        pdf.close()
    if pages == 0:
        raise PdfRefused("The PDF has no pages.")
    if pages > max_pages:
        raise PdfRefused(f"The PDF has {pages} pages; files of more than {max_pages} pages are refused.")
    return QuickInfo(pages=pages)


def _normalise(text: str) -> str:
    """NFKC, words hyphenated across lines joined again, whitespace collapsed; case is kept."""
    text = unicodedata.normalize("NFKC", text.replace("\ufffe", "-").replace("\x02", "-"))
    text = re.sub(r"-\s*\n\s*", "", text)  # words hyphenated across lines
    return re.sub(r"\s+", " ", text)


def _phrase_pattern(phrase: str) -> re.Pattern | None:
    """A whole-word, whitespace-tolerant pattern for `phrase`: case-insensitive, except acronyms of up
    to five capitals ("MIT", "KAIST"), which match only as written."""
    words = re.split(r"\s+", unicodedata.normalize("NFKC", phrase).strip())
    words = [w for w in words if w]
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    flags = 0 if len(words) == 1 and re.fullmatch(r"[A-Z0-9&]{2,5}", words[0]) else re.I
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", flags)


def _name_patterns(name: str) -> list[re.Pattern]:
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    if not parts:
        return []
    forms = {" ".join(parts)}
    if len(parts) >= 2:
        forms.add(f"{parts[0][0]}. {' '.join(parts[1:])}")  # "A. Author"
        forms.add(f"{' '.join(parts[1:])}, {parts[0]}")  # "Author, Alex"
    return [
        re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in form.split()) + r"(?!\w)", re.I)
        for form in forms
    ]


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    """The match with about `width` characters of context on each side, cut at word boundaries."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return f"{'…' if left > 0 else ''}{text[left:right].strip()}{'…' if right < len(text) else ''}"


def _find_identity(text: str, identity: Identity) -> list[str]:
    """What of `identity` the (normalised) `text` contains, each with the snippet where it was found.
    Names, e-mails and affiliations match as whole words and phrases; a match lying wholly inside one
    of the chairs' `not_identities` ("Samsung" inside "Samsung Exynos 2100", if listed) is skipped."""
    masks = []
    for phrase in identity.not_identities:
        pattern = _phrase_pattern(phrase)
        if pattern:
            masks.extend(m.span() for m in pattern.finditer(text))

    def first_match(patterns: list[re.Pattern]) -> tuple[int, int, int] | None:
        spans = sorted(
            span
            for pattern in patterns
            for span in (m.span() for m in pattern.finditer(text))
            if not any(a <= span[0] and span[1] <= b for a, b in masks)
        )
        return (*spans[0], len({start for start, _ in spans})) if spans else None

    found = []

    def report(kind: str, value: str, hit: tuple[int, int, int] | None) -> None:
        if hit:
            start, end, count = hit
            times = f" ({count} times)" if count > 1 else ""
            found.append(f"{kind} “{value}” in “{_snippet(text, start, end)}”{times}")

    for name in identity.names:
        report("author name", name, first_match(_name_patterns(name)))
    for email in identity.emails:
        if email:
            report("e-mail", email, first_match([re.compile(re.escape(email.strip()), re.I)]))
    for affiliation in identity.affiliations:
        forms = {affiliation.strip(), affiliation.split(",")[0].strip()}
        patterns = [p for p in (_phrase_pattern(f) for f in forms if len(f) >= 2) if p]
        report("affiliation", affiliation.strip(), first_match(patterns))
    return found


# --- Reading the page as a layout ---------------------------------------------------------------------
# Each line of PDFium's text of a page becomes a `Segment` with its box (from PDFium's rectangles of
# runs of text) and font size. Margin furniture is then set apart: the line-number ruler of review
# templates (digit-only lines reaching outside the text), page numbers (digit-only lines below or above
# it), and running heads and feet (lines at the top or bottom edge repeated at the same place on most
# pages). The rest is the body, judged by its position: text block, columns, font size, and which lines
# come before the "References" heading.

DIGITS_RE = re.compile(r"(?=.*\d)[\d\s.,:–-]{1,12}")
EDGE_GAP_PT = 14.0  # a lone edge line farther than this from the body is a head or foot (1-page files)


@dataclass
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # font size in points, to 0.1
    text: str
    furniture: bool = False  # ruler label, page number, running head or foot
    edge: bool = False  # a lone line set apart at the top or bottom (left out of the geometry only)
    chars: int = 0  # characters without surrounding blanks (at least 1)

    def __post_init__(self) -> None:
        self.chars = max(1, len(self.text.strip()))


LINE_BREAK_RE = re.compile("\r\n|\ufffe")  # PDFium's line break, and its mark of a hyphen at a line end


def _page_segments(textpage) -> list[Segment]:
    """The page's lines of text with their boxes and font sizes. PDFium's text puts a line break
    between lines (and joins a word hyphenated across lines, marking the hyphen); its rectangles give
    each run of text (one text object) its box. A run whose box holds the first character of a line
    starts that line; the runs after it, up to the next line's, are the rest of the line (a word in
    italics, the right ruler label on the left one's baseline)."""
    import ctypes

    import pypdfium2.raw as raw

    handle = textpage.raw
    text = textpage.get_text_range()
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    refs = (ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top))
    rects = []
    for index in range(raw.FPDFText_CountRects(handle, 0, -1)):
        if raw.FPDFText_GetRect(handle, index, refs[0], refs[3], refs[1], refs[2]):
            rects.append((left.value, bottom.value, right.value, top.value))
    matrix = raw.FS_MATRIX()
    matrix_ref = ctypes.byref(matrix)
    char_box, font_size, char_matrix = (
        raw.FPDFText_GetCharBox,
        raw.FPDFText_GetFontSize,
        raw.FPDFText_GetMatrix,
    )
    starts = [0] + [m.end() for m in LINE_BREAK_RE.finditer(text)]
    segments: list[Segment] = []
    position = 0  # the next rectangle not yet given to a line
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(text)
        piece = text[start:end].replace("\r\n", "")
        first = start + len(piece) - len(piece.lstrip())
        if not piece.strip() or not char_box(handle, first, *refs):
            continue
        cx, cy = (left.value + right.value) / 2, (bottom.value + top.value) / 2
        box = [left.value, bottom.value, right.value, top.value]
        # The run holding the first character, and the runs up to the next line's first run.
        found = None
        for probe in range(position, len(rects)):
            x0, y0, x1, y1 = rects[probe]
            if x0 - 0.5 <= cx <= x1 + 0.5 and y0 - 0.5 <= cy <= y1 + 0.5:
                found = probe
                break
        if found is not None:
            if segments:  # runs skipped over belong to the previous line
                previous = segments[-1]
                for x0, y0, x1, y1 in rects[position:found]:
                    previous.x0, previous.y0 = min(previous.x0, x0), min(previous.y0, y0)
                    previous.x1, previous.y1 = max(previous.x1, x1), max(previous.y1, y1)
            box = list(rects[found])
            position = found + 1
        # The em size times the scale of the character's matrix (WeasyPrint, for one, scales by ¾).
        size = font_size(handle, first)
        if char_matrix(handle, first, matrix_ref):
            size *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
        segments.append(Segment(*box, round(size, 1), piece.strip()))
    if segments:
        last = segments[-1]
        for x0, y0, x1, y1 in rects[position:]:
            last.x0, last.y0 = min(last.x0, x0), min(last.y0, y0)
            last.x1, last.y1 = max(last.x1, x1), max(last.y1, y1)
    return segments


def _is_digits(segment: Segment) -> bool:
    return DIGITS_RE.fullmatch(segment.text.strip()) is not None


def _mark_ruler_and_numbers(segments: list[Segment]) -> None:
    """Digit-only lines reaching outside the span of the page's other text (running heads left
    out): ruler labels (one line when the left and right labels share a baseline), page numbers."""
    words = [s for s in segments if not s.furniture and not s.edge and not _is_digits(s)]
    if not words:
        return
    x0 = min(s.x0 for s in words)
    x1 = max(s.x1 for s in words)
    y0 = min(s.y0 for s in words)
    y1 = max(s.y1 for s in words)
    for s in segments:
        if _is_digits(s) and (s.x0 < x0 - 2 or s.x1 > x1 + 2 or s.y1 <= y0 + 1 or s.y0 >= y1 - 1):
            s.furniture = True


DIGIT_MASK = str.maketrans("0123456789", "##########")


def _furniture_key(segment: Segment) -> tuple:
    return (round(segment.y0 / 3), segment.text.strip().translate(DIGIT_MASK))


def _edge_lines(body: list[Segment], depth: int = 2) -> list[Segment]:
    """The runs on the `depth` highest and lowest baselines of a page."""
    levels = sorted({round(s.y0) for s in body})
    edges = set(levels[:depth] + levels[-depth:])
    return [s for s in body if round(s.y0) in edges]


def _mark_heads_and_feet(pages: list[list[Segment]]) -> None:
    """Running heads and feet: lines above or below the rest of the page's text that repeat at the
    same height on at least half of the pages (two at least). A page without such a repeat falls back
    to a gap rule for its geometry only: a short edge line set apart by more than EDGE_GAP_PT."""
    edges = [_edge_lines([s for s in segments if not _is_digits(s)]) for segments in pages]
    seen: Counter = Counter()
    for lines in edges:
        seen.update({_furniture_key(s) for s in lines})
    with_text = sum(1 for segments in pages if segments)
    repeated = {key for key, n in seen.items() if n >= max(2, with_text / 2)}
    for segments, lines in zip(pages, edges, strict=True):
        body = [s for s in segments if not s.furniture and not _is_digits(s)]
        candidates = [s for s in lines if _furniture_key(s) in repeated]
        rest = [s for s in body if not any(s is c for c in candidates)]
        if candidates and rest:
            top = max(s.y1 for s in rest)
            bottom = min(s.y0 for s in rest)
            for s in candidates:
                if s.y0 >= top - 1 or s.y1 <= bottom + 1:
                    s.furniture = True
        elif not candidates and len(body) > 3:
            ordered = sorted(body, key=lambda s: -s.y1)
            total = sum(s.chars for s in body)
            for edge, neighbour in ((ordered[0], ordered[1]), (ordered[-1], ordered[-2])):
                gap = edge.y0 - neighbour.y1 if edge is ordered[0] else neighbour.y0 - edge.y1
                same_line = [s for s in body if abs(s.y0 - edge.y0) < 1]
                if gap > EDGE_GAP_PT and sum(s.chars for s in same_line) < 0.06 * total:
                    for s in same_line:
                        s.edge = True


def _box(body: list[Segment]) -> tuple[float, float, float, float]:
    """The text block: the extent of the body's runs, ignoring the outermost 0.5 % of characters."""
    total = sum(s.chars for s in body)
    cut = total * 0.005

    def edge(values: list[tuple[float, int]]) -> float:
        values.sort()
        dropped = 0
        for value, chars in values:
            if dropped + chars > cut:
                return value
            dropped += chars
        return values[-1][0]

    x0 = edge([(s.x0, s.chars) for s in body])
    y0 = edge([(s.y0, s.chars) for s in body])
    x1 = -edge([(-s.x1, s.chars) for s in body])
    y1 = -edge([(-s.y1, s.chars) for s in body])
    return (x0, y0, x1, y1)


def _page_layout(number: int, segments: list[Segment]) -> dict | None:
    body = [s for s in segments if not s.furniture and not s.edge]
    total = sum(s.chars for s in body)
    if total < 30:
        return None
    box = _box(body)
    # Columns: the share of characters in runs on each side of the block's middle, and of those
    # straddling it (a two-column page has few there: the title block, wide figures and tables).
    middle = (box[0] + box[2]) / 2
    gutter = 0.02 * (box[2] - box[0])
    straddling = sum(s.chars for s in body if s.x0 < middle - gutter and s.x1 > middle + gutter)
    left = sum(s.chars for s in body if (s.x0 + s.x1) / 2 < middle)
    two_columns = straddling / total < 0.2 and 0.2 < left / total < 0.8
    sizes: Counter = Counter()
    for s in body:
        sizes[s.size] += s.chars
    return {"page": number, "box": box, "middle": middle, "two_columns": two_columns, "sizes": sizes}


def _column(segment: Segment, middle: float, tolerance: float) -> int:
    """0 left, 1 right, 2 across the middle (full width)."""
    if segment.x1 <= middle + tolerance:
        return 0
    if segment.x0 >= middle - tolerance:
        return 1
    return 2


def _references_heading(segments: list[Segment]) -> Segment | None:
    """The first body line that is only "References" (or "7. References", "Bibliography"…)."""
    for s in segments:
        if not s.furniture and REFERENCES_RE.fullmatch(s.text.strip()):
            return s
    return None


def _before_heading(segments: list[Segment], heading: Segment, middle: float | None) -> list[Segment]:
    """The body lines that come before `heading` in reading order (columns left to right)."""
    body = [s for s in segments if not s.furniture and s is not heading]
    if middle is None:
        return [s for s in body if s.y0 > heading.y1 - 1]
    tolerance = 6.0
    column = _column(heading, middle, tolerance)
    before = []
    for s in body:
        own = _column(s, middle, tolerance)
        above = s.y0 > heading.y1 - 1 and not (abs(s.y0 - heading.y0) < 1.5 and s.x0 > heading.x0)
        if own == column or own == 2 or column == 2:
            if above:
                before.append(s)
        elif own == 0 and column == 1:
            before.append(s)
    return before


def _line_count(segments: list[Segment], middle: float | None) -> int:
    """Lines among `segments`: those on one baseline in one column count once."""
    return len({(round(s.y0 / 2), middle is not None and s.x0 >= middle) for s in segments})


def _page_fonts(page, fonts: set[str]) -> None:
    """Adds to `fonts` the base names of the fonts that are not embedded, used by the page's text
    objects (and by text inside form XObjects). Type 3 fonts count as embedded."""
    import ctypes

    import pypdfium2.raw as raw

    count_objects, get_object, object_type = (
        raw.FPDFPage_CountObjects,
        raw.FPDFPage_GetObject,
        raw.FPDFPageObj_GetType,
    )
    text_font, embedded = raw.FPDFTextObj_GetFont, raw.FPDFFont_GetIsEmbedded
    text_kind, form_kind = raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_FORM

    def visit(objects) -> None:
        for obj in objects:
            kind = object_type(obj)
            if kind == text_kind:
                font = text_font(obj)
                if font and not embedded(font):
                    size = raw.FPDFFont_GetBaseFontName(font, None, 0)
                    buffer = ctypes.create_string_buffer(max(1, size))
                    raw.FPDFFont_GetBaseFontName(font, buffer, size)
                    fonts.add(buffer.value.decode("utf-8", "replace") or "?")
            elif kind == form_kind:
                visit(raw.FPDFFormObj_GetObject(obj, i) for i in range(raw.FPDFFormObj_CountObjects(obj)))

    handle = page.raw
    visit(get_object(handle, i) for i in range(count_objects(handle)))


# Document-information keys read (PDFium cannot list them): the standard ones and what office suites
# and TeX add.
INFO_KEYS = (
    "Title",
    "Author",
    "Subject",
    "Keywords",
    "Creator",
    "Producer",
    "CreationDate",
    "ModDate",
    "Company",
    "PTEX.Fullbanner",
)
XMP_RE = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>|<\?xpacket begin.*?<\?xpacket end[^>]*>", re.S)


def _metadata_text(pdf, path: Path) -> tuple[str, list[str]]:
    """The PDF metadata (document information and XMP packets) as one string, and the fields present.
    XMP packets are found by scanning the file for them, as the XMP specification intends (writers
    leave the metadata stream uncompressed); the review copy drops every metadata stream anyway."""
    parts, present = [], []
    for key in INFO_KEYS:
        value = pdf.get_metadata_value(key)
        if value and value.strip():
            present.append(key)
            parts.append(value)
    with open(path, "rb") as handle:
        data = handle.read()
    packets = XMP_RE.findall(data) if b"xmpmeta" in data or b"xpacket" in data else []
    if packets:
        present.append("XMP")
        parts.extend(re.sub(r"<[^>]*>", " ", p.decode("utf-8", "replace")) for p in packets[:8])
    return " ".join(parts), present


def check_pdf(
    path: str | Path,
    *,
    rules: FormatRules,
    identity: Identity = Identity(),
    double_blind: bool = True,
    max_pages: int = 60,
) -> Report:
    """Runs every check on the file at `path` and returns the report (never raises on bad PDFs)."""
    started = time.perf_counter()
    report = Report()
    path = Path(path)
    try:
        report.pages = quick_inspect(path, max_pages=max_pages).pages
    except PdfRefused as exc:
        report.add("readable", Level.ERROR, "Readable PDF", str(exc))
        report.seconds = round(time.perf_counter() - started, 3)
        return report
    report.add("readable", Level.OK, "Readable PDF", f"A PDF of {report.pages} pages, not encrypted.")
    try:
        _check_contents(path, report, rules, identity, double_blind)
    except Exception as exc:  # noqa: BLE001 - PDFium/pypdf choke on some damaged files
        report.add(
            "readable",
            Level.ERROR,
            "Readable PDF",
            f"The PDF could not be read completely ({exc.__class__.__name__}); export it again.",
        )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _check_contents(
    path: Path, report: Report, rules: FormatRules, identity: Identity, double_blind: bool
) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        pages: list[list[Segment]] = []
        fonts: set[str] = set()
        sizes_off: list[int] = []
        expected = PAGE_SIZES_PT.get(rules.paper_size.strip().lower())
        for index in range(len(pdf)):
            page = pdf[index]
            width, height = page.get_size()
            if expected and (
                abs(width - expected[0]) > SIZE_TOLERANCE_PT or abs(height - expected[1]) > SIZE_TOLERANCE_PT
            ):
                sizes_off.append(index + 1)
            textpage = page.get_textpage()
            pages.append(_page_segments(textpage))
            textpage.close()
            _page_fonts(page, fonts)
            page.close()
        meta_text, meta_present = _metadata_text(pdf, path)
    finally:
        pdf.close()
    _mark_heads_and_feet(pages)
    for segments in pages:
        _mark_ruler_and_numbers(segments)
    layouts = {lay["page"]: lay for lay in (_page_layout(n, s) for n, s in enumerate(pages, start=1)) if lay}

    # References and the page limit: the body is every page before the one with the "References"
    # heading, plus that page when body lines come before the heading there (however few).
    references_page = heading = None
    for number, segments in enumerate(pages, start=1):
        heading = _references_heading(segments)
        if heading:
            references_page = number
            break
    overflow: list[Segment] = []
    middle = None
    if references_page:
        # The middle of the document's text block (the references page alone may fill one column).
        middles = sorted(lay["middle"] for lay in layouts.values())
        middle = middles[len(middles) // 2] if middles and _two_column_document(layouts) else None
        overflow = _before_heading(pages[references_page - 1], heading, middle)
        content_pages = references_page if overflow else references_page - 1
    else:
        content_pages = report.pages
    report.references_page = references_page
    report.content_pages = content_pages
    counted = content_pages if rules.references_excluded else report.pages
    where = (
        f"references start on page {references_page}" if references_page else "no references section found"
    )
    if counted > rules.page_limit:
        if rules.references_excluded and overflow and counted == rules.page_limit + 1:
            lines = _line_count(overflow, middle)
            message = (
                f"The text runs onto page {counted}: {lines} line{'s' if lines != 1 else ''} before the "
                f"references heading ({where}); at most {rules.page_limit} pages are allowed before "
                "the references."
            )
        else:
            message = (
                f"{counted} pages{' before the references' if rules.references_excluded else ''} "
                f"({where}); at most {rules.page_limit} are allowed."
            )
        report.add("pages", Level.ERROR, "Page limit", message)
    else:
        report.add(
            "pages", Level.OK, "Page limit", f"{counted} of at most {rules.page_limit} pages ({where})."
        )

    # Page size.
    if expected:
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

    body_layouts = [lay for n, lay in sorted(layouts.items()) if n <= max(content_pages, 1)]
    body_layouts = body_layouts or list(layouts.values())
    # Columns.
    if rules.double_column and body_layouts:
        single = [lay["page"] for lay in body_layouts if not lay["two_columns"]]
        if len(single) > len(body_layouts) / 2:
            report.add(
                "columns",
                Level.WARNING,
                "Two columns",
                f"The text is not set in two columns on pages {_ranges(single)}.",
            )
        else:
            report.add("columns", Level.OK, "Two columns", "The text is set in two columns.")

    # Text block and margins (the body only: rulers, running heads and page numbers lie outside).
    if body_layouts:
        max_w, max_h = (v * 72 for v in rules.text_block_in)
        wide = []
        for lay in body_layouts:
            x0, y0, x1, y1 = lay["box"]
            if x1 - x0 > max_w + BLOCK_TOLERANCE_PT or y1 - y0 > max_h + BLOCK_TOLERANCE_PT:
                wide.append((lay["page"], x1 - x0, y1 - y0))
        if wide:
            page, w, h = wide[0]
            report.add(
                "text_block",
                Level.WARNING,
                "Text block and margins",
                f"The text exceeds the {_inches(rules.text_block_in[0])} × "
                f"{_inches(rules.text_block_in[1])} in block on pages {_ranges([p for p, _, _ in wide])} "
                f"(page {page}: {w / 72:.2f} × {h / 72:.2f} in); the margins are too small.",
            )
        else:
            widths = [lay["box"][2] - lay["box"][0] for lay in body_layouts]
            heights = [lay["box"][3] - lay["box"][1] for lay in body_layouts]
            report.add(
                "text_block",
                Level.OK,
                "Text block and margins",
                f"The text fits the {_inches(rules.text_block_in[0])} × {_inches(rules.text_block_in[1])} in "
                f"block (largest {max(widths) / 72:.2f} × {max(heights) / 72:.2f} in).",
            )

    # Body font size: the size of most of the body's characters, to 0.1 pt.
    sizes: Counter = Counter()
    for lay in body_layouts:
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

    # Embedded fonts.
    missing = sorted(fonts)
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

    # Anonymity: all the text before the references heading, running heads included (a head with
    # names is a leak too), without ruler labels and page numbers.
    if double_blind:
        pieces = []
        for segments in pages[: references_page - 1 if references_page else None]:
            pieces.extend(s.text for s in segments if not _is_number_furniture(s))
        pieces.extend(s.text for s in overflow)
        body_text = _normalise("\n".join(pieces))
        found = _find_identity(body_text, identity)
        emails = sorted(
            {e.lower() for e in (EMAIL_RE.findall(body_text) if "@" in body_text else ())}
            - {e.lower() for e in identity.emails}
        )
        if emails:
            found.append("e-mail address " + ", ".join(f"“{e}”" for e in emails[:3]))
        meta_found = _find_identity(_normalise(meta_text), identity)
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
        if meta_found:
            report.add(
                "anonymity_metadata",
                Level.WARNING,
                "Anonymity of the metadata",
                f"The PDF metadata contains {'; '.join(meta_found)}. Reviewers get a copy with "
                "the metadata removed, but please clear it in your source too.",
            )
        elif meta_present:
            report.add(
                "anonymity_metadata",
                Level.INFO,
                "Metadata",
                f"Metadata fields {', '.join(meta_present)} are removed from the copy reviewers get.",
            )


def _is_number_furniture(segment: Segment) -> bool:
    return segment.furniture and _is_digits(segment)


def _two_column_document(layouts: dict[int, dict]) -> bool:
    values = list(layouts.values())
    return bool(values) and sum(lay["two_columns"] for lay in values) > len(values) / 2


def _ranges(pages: list[int]) -> str:
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


def make_review_copy(source: str | Path, destination: str | Path) -> None:
    """Writes the anonymised copy: the same pages, without document information (Author, Creator,
    Producer, Title…), XMP metadata (document and page level) or the original file identifier."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(str(source))
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    root = writer.root_object
    for key in ("/Metadata", "/PieceInfo"):
        if NameObject(key) in root:
            del root[NameObject(key)]
    for page in writer.pages:
        for key in ("/Metadata", "/PieceInfo"):
            if NameObject(key) in page:
                del page[NameObject(key)]
    # The clone still holds the detached objects (XMP streams…): drop everything unreachable.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    with open(destination, "wb") as handle:
        writer.write(handle)


# --- Isolation ---------------------------------------------------------------------------------------
# PDFium and pypdf parse untrusted files: a crafted PDF could crash the process, eat memory or loop.
# `check_isolated` and `quick_inspect_isolated` run them in the sandbox (`common.sandbox`: address-space
# limit, no network, dies with its parent, wall-clock watchdog); a child that dies is a verdict on the
# file, never a dead web or Celery worker.

CHILD_MEMORY_BYTES = 2 * 1024**3
CHILD_TIMEOUT_S = 120


def _run_child(function: str, request: dict, timeout: float, memory_bytes: int = CHILD_MEMORY_BYTES) -> dict:
    try:
        result, _log = run_sandboxed(
            f"conference.pdfcheck:{function}",
            request,
            time_limit_s=timeout,
            memory_limit_mb=max(1, memory_bytes // 2**20),
        )
    except SandboxTimeout:
        return {"crash": f"took longer than {timeout:.0f} s"}
    except SandboxCrash as exc:
        return {"crash": f"the reader stopped ({exc.signal_name})"}
    except SandboxError as exc:
        reason = "out of memory" if exc.error_type == "MemoryError" else exc.error_type
        return {"crash": f"the reader stopped ({reason})"}
    return result


def quick_inspect_isolated(path: str | Path, *, max_pages: int, timeout: float = 30) -> QuickInfo:
    """`quick_inspect` in the sandbox (raises PdfRefused the same way)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise PdfRefused("The file is empty (0 bytes).")
    with open(path, "rb") as handle:
        if b"%PDF-" not in handle.read(1024):
            raise PdfRefused(
                "This file is not a PDF (it does not start with %PDF-); export your paper as PDF."
            )
    result = _run_child("quick_child", {"path": str(path), "max_pages": max_pages}, timeout)
    if "crash" in result:
        raise PdfRefused(f"The PDF could not be read ({result['crash']}); export it again.")
    if "refused" in result:
        raise PdfRefused(result["refused"])
    return QuickInfo(pages=result["pages"])


def check_isolated(
    path: str | Path,
    *,
    rules: FormatRules,
    identity: Identity = Identity(),
    double_blind: bool = True,
    max_pages: int = 60,
    review_copy: str | Path | None = None,
    timeout: float = CHILD_TIMEOUT_S,
    memory_bytes: int = CHILD_MEMORY_BYTES,
) -> Report:
    """`check_pdf` (and, when it finds no error, `make_review_copy` to `review_copy`) in the sandbox."""
    started = time.perf_counter()
    result = _run_child(
        "check_child",
        {
            "path": str(path),
            "review_copy": str(review_copy) if review_copy else None,
            "rules": asdict(rules),
            "identity": asdict(identity),
            "double_blind": double_blind,
            "max_pages": max_pages,
        },
        timeout,
        memory_bytes,
    )
    if "crash" in result:
        report = Report()
        report.add(
            "readable",
            Level.ERROR,
            "Readable PDF",
            f"The PDF could not be checked ({result['crash']}); export it again and upload it.",
        )
        report.seconds = round(time.perf_counter() - started, 3)
        return report
    report = Report(
        **{
            k: result[k]
            for k in ("items", "pages", "content_pages", "references_page", "body_font_pt", "seconds")
        }
    )
    return report


def quick_child(request: dict) -> dict:
    """In the sandbox: the page count, or the refusal."""
    try:
        return {"pages": quick_inspect(request["path"], max_pages=request["max_pages"]).pages}
    except PdfRefused as exc:
        return {"refused": str(exc)}


def check_child(request: dict) -> dict:
    """In the sandbox: the full check, and the review copy when the file has no error."""
    rules = request["rules"]
    rules["text_block_in"] = tuple(rules["text_block_in"])
    identity = Identity(**{k: tuple(v) for k, v in request["identity"].items()})
    report = check_pdf(
        request["path"],
        rules=FormatRules(**rules),
        identity=identity,
        double_blind=request["double_blind"],
        max_pages=request["max_pages"],
    )
    if not report.errors and request.get("review_copy"):
        try:
            make_review_copy(request["path"], request["review_copy"])
        except Exception:  # noqa: BLE001 - reported as an error of the file
            report.add(
                "review_copy",
                Level.ERROR,
                "Review copy",
                "The anonymised copy for reviewers could not be written from this PDF; export it "
                "again (e.g. print to PDF) and upload it.",
            )
    return report.as_dict()
