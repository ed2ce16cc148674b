"""Reading a page as a layout: each line of PDFium's text of a page becomes a `Segment` with its box
(from PDFium's rectangles of runs of text) and font size. Margin furniture is then set apart: the
line-number ruler of review templates (digit-only lines reaching outside the text), page numbers
(digit-only lines below or above it), and running heads and feet (lines at the top or bottom edge
repeated at the same place on most pages). The rest is the body, judged by its position: text block,
columns, font sizes, and which lines come before the "References" heading."""

import ctypes
import re
from collections import Counter
from dataclasses import dataclass

import pypdfium2.raw as raw

DIGITS_RE = re.compile(r"(?=.*\d)[\d\s.,:–-]{1,12}")
DIGIT_MASK = str.maketrans("0123456789", "##########")
EDGE_GAP_PT = 14.0  # a lone edge line farther than this from the body is a head or foot (1-page files)
LINE_BREAK_RE = re.compile("\r\n|\ufffe")  # PDFium's line break, and its mark of a hyphen at a line end
REFERENCES_RE = re.compile(
    r"^\s*(?:\d{1,2}\.?\s*)?(references|bibliography|literature cited)\s*$", re.I | re.M
)

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in points, origin at the bottom left


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

    def extend(self, rects: list[Rect]) -> None:
        """Grows the box over `rects` (runs of text that belong to this line)."""
        for x0, y0, x1, y1 in rects:
            self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
            self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)


# --- PDFium's text of one page -------------------------------------------------------------------


class _TextPage:
    """PDFium's text page, with the ctypes out-parameters its calls fill (made once per page)."""

    def __init__(self, textpage) -> None:
        self.handle = textpage.raw
        self.text = textpage.get_text_range()
        self.left, self.right = ctypes.c_double(), ctypes.c_double()
        self.bottom, self.top = ctypes.c_double(), ctypes.c_double()
        self.refs = tuple(ctypes.byref(v) for v in (self.left, self.right, self.bottom, self.top))
        self.matrix = raw.FS_MATRIX()
        self.matrix_ref = ctypes.byref(self.matrix)

    def run_rects(self) -> list[Rect]:
        """The box of each run of text (one text object), in PDFium's order."""
        left, right, bottom, top = self.refs
        rects = []
        for index in range(raw.FPDFText_CountRects(self.handle, 0, -1)):
            if raw.FPDFText_GetRect(self.handle, index, left, top, right, bottom):
                rects.append((self.left.value, self.bottom.value, self.right.value, self.top.value))
        return rects

    def char_box(self, index: int) -> Rect | None:
        if not raw.FPDFText_GetCharBox(self.handle, index, *self.refs):
            return None
        return (self.left.value, self.bottom.value, self.right.value, self.top.value)

    def font_size(self, index: int) -> float:
        """The em size times the scale of the character's matrix (WeasyPrint, for one, scales by ¾)."""
        size = raw.FPDFText_GetFontSize(self.handle, index)
        if raw.FPDFText_GetMatrix(self.handle, index, self.matrix_ref):
            m = self.matrix
            size *= abs(m.a * m.d - m.b * m.c) ** 0.5
        return round(size, 1)


def _lines(text: str):
    """(line text, index of its first non-blank character) for each non-blank line of PDFium's text."""
    starts = [0] + [m.end() for m in LINE_BREAK_RE.finditer(text)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(text)
        piece = text[start:end].replace("\r\n", "")
        if piece.strip():
            yield piece, start + len(piece) - len(piece.lstrip())


def _run_at(rects: list[Rect], position: int, box: Rect) -> int | None:
    """The first run from `position` on whose box holds the centre of `box` (a character's box)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for probe in range(position, len(rects)):
        x0, y0, x1, y1 = rects[probe]
        if x0 - 0.5 <= cx <= x1 + 0.5 and y0 - 0.5 <= cy <= y1 + 0.5:
            return probe
    return None


def page_segments(textpage) -> list[Segment]:
    """The page's lines of text with their boxes and font sizes. PDFium's text puts a line break
    between lines (and joins a word hyphenated across lines, marking the hyphen); its rectangles give
    each run of text (one text object) its box. A run whose box holds the first character of a line
    starts that line; the runs after it, up to the next line's, are the rest of the line (a word in
    italics, the right ruler label on the left one's baseline)."""
    page = _TextPage(textpage)
    rects = page.run_rects()
    segments: list[Segment] = []
    position = 0  # the next rectangle not yet given to a line
    for piece, first in _lines(page.text):
        box = page.char_box(first)
        if box is None:
            continue
        found = _run_at(rects, position, box)
        if found is not None:
            if segments:  # runs skipped over belong to the previous line
                segments[-1].extend(rects[position:found])
            box = rects[found]
            position = found + 1
        segments.append(Segment(*box, page.font_size(first), piece.strip()))
    if segments:
        segments[-1].extend(rects[position:])
    return segments


# --- Margin furniture ------------------------------------------------------------------------------


def is_digits(segment: Segment) -> bool:
    return DIGITS_RE.fullmatch(segment.text.strip()) is not None


def is_number_furniture(segment: Segment) -> bool:
    """A ruler label or a page number (running heads are furniture too, but they are words)."""
    return segment.furniture and is_digits(segment)


def _mark_ruler_and_numbers(segments: list[Segment]) -> None:
    """Digit-only lines reaching outside the span of the page's other text (running heads left
    out): ruler labels (one line when the left and right labels share a baseline), page numbers."""
    words = [s for s in segments if not s.furniture and not s.edge and not is_digits(s)]
    if not words:
        return
    x0 = min(s.x0 for s in words)
    x1 = max(s.x1 for s in words)
    y0 = min(s.y0 for s in words)
    y1 = max(s.y1 for s in words)
    for s in segments:
        if is_digits(s) and (s.x0 < x0 - 2 or s.x1 > x1 + 2 or s.y1 <= y0 + 1 or s.y0 >= y1 - 1):
            s.furniture = True


def _furniture_key(segment: Segment) -> tuple:
    return (round(segment.y0 / 3), segment.text.strip().translate(DIGIT_MASK))


def _edge_lines(body: list[Segment], depth: int = 2) -> list[Segment]:
    """The runs on the `depth` highest and lowest baselines of a page."""
    levels = sorted({round(s.y0) for s in body})
    edges = set(levels[:depth] + levels[-depth:])
    return [s for s in body if round(s.y0) in edges]


def _mark_lone_edges(body: list[Segment]) -> None:
    """A page without a repeated head or foot: a short top or bottom line set apart by more than
    EDGE_GAP_PT is left out of the page's geometry (it stays in the text)."""
    ordered = sorted(body, key=lambda s: -s.y1)
    total = sum(s.chars for s in body)
    for edge, neighbour in ((ordered[0], ordered[1]), (ordered[-1], ordered[-2])):
        gap = edge.y0 - neighbour.y1 if edge is ordered[0] else neighbour.y0 - edge.y1
        same_line = [s for s in body if abs(s.y0 - edge.y0) < 1]
        if gap > EDGE_GAP_PT and sum(s.chars for s in same_line) < 0.06 * total:
            for s in same_line:
                s.edge = True


def _mark_heads_and_feet(pages: list[list[Segment]]) -> None:
    """Running heads and feet: lines above or below the rest of the page's text that repeat at the
    same height on at least half of the pages (two at least). A page without such a repeat falls back
    to a gap rule for its geometry only (`_mark_lone_edges`)."""
    edges = [_edge_lines([s for s in segments if not is_digits(s)]) for segments in pages]
    seen: Counter = Counter()
    for lines in edges:
        seen.update({_furniture_key(s) for s in lines})
    with_text = sum(1 for segments in pages if segments)
    repeated = {key for key, n in seen.items() if n >= max(2, with_text / 2)}
    for segments, lines in zip(pages, edges, strict=True):
        body = [s for s in segments if not s.furniture and not is_digits(s)]
        candidates = [s for s in lines if _furniture_key(s) in repeated]
        rest = [s for s in body if not any(s is c for c in candidates)]
        if candidates and rest:
            top = max(s.y1 for s in rest)
            bottom = min(s.y0 for s in rest)
            for s in candidates:
                if s.y0 >= top - 1 or s.y1 <= bottom + 1:
                    s.furniture = True
        elif not candidates and len(body) > 3:
            _mark_lone_edges(body)


def mark_furniture(pages: list[list[Segment]]) -> None:
    """Sets running heads and feet apart (across pages), then each page's ruler labels and numbers."""
    _mark_heads_and_feet(pages)
    for segments in pages:
        _mark_ruler_and_numbers(segments)


# --- The body's geometry ---------------------------------------------------------------------------


def _box(body: list[Segment]) -> Rect:
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


def page_layout(number: int, segments: list[Segment]) -> dict | None:
    """The body's text block, its middle, whether it is set in two columns and its characters per font
    size; None for a page with (almost) no body text."""
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


def page_layouts(pages: list[list[Segment]]) -> dict[int, dict]:
    """`page_layout` of every page with body text, by page number (from 1)."""
    return {lay["page"]: lay for lay in (page_layout(n, s) for n, s in enumerate(pages, start=1)) if lay}


def two_column_document(layouts: dict[int, dict]) -> bool:
    values = list(layouts.values())
    return bool(values) and sum(lay["two_columns"] for lay in values) > len(values) / 2


# --- The references heading ------------------------------------------------------------------------


def _column(segment: Segment, middle: float, tolerance: float) -> int:
    """0 left, 1 right, 2 across the middle (full width)."""
    if segment.x1 <= middle + tolerance:
        return 0
    if segment.x0 >= middle - tolerance:
        return 1
    return 2


def references_heading(segments: list[Segment]) -> Segment | None:
    """The first body line that is only "References" (or "7. References", "Bibliography"…)."""
    for s in segments:
        if not s.furniture and REFERENCES_RE.fullmatch(s.text.strip()):
            return s
    return None


def before_heading(segments: list[Segment], heading: Segment, middle: float | None) -> list[Segment]:
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


def line_count(segments: list[Segment], middle: float | None) -> int:
    """Lines among `segments`: those on one baseline in one column count once."""
    return len({(round(s.y0 / 2), middle is not None and s.x0 >= middle) for s in segments})
