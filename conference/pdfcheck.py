"""The PDF format checker of paper submissions (no Django models: plain inputs, a JSON-able report),
and the anonymised review copy.

Checks, in the spirit of HotCRP's format checker: readable (a PDF, not encrypted, not corrupt),
page count without the references section (found from the text), page size, two-column layout,
text block and margins, body font size, embedded fonts, and anonymity (authors' names, e-mails and
affiliations in the text or the metadata). pypdfium2 (PDFium, C++) reads text and geometry; pypdf
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
FONT_TOLERANCE_PT = 0.5
LAYOUT_SAMPLE_PAGES = 12  # pages analysed for columns, text block and font size
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
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"-\s*\n\s*", "", text)  # words hyphenated across lines
    return re.sub(r"\s+", " ", text).lower()


def _name_patterns(name: str) -> list[re.Pattern]:
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    if not parts:
        return []
    forms = {" ".join(parts)}
    if len(parts) >= 2:
        forms.add(f"{parts[0][0]}. {' '.join(parts[1:])}")  # "A. Author"
        forms.add(f"{' '.join(parts[1:])}, {parts[0]}")  # "Author, Alex"
    return [
        re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in form.lower().split()) + r"(?!\w)")
        for form in forms
    ]


def _find_identity(text: str, identity: Identity) -> list[str]:
    found = []
    for name in identity.names:
        if any(p.search(text) for p in _name_patterns(name)):
            found.append(f"author name “{name}”")
    for email in identity.emails:
        if email and email.lower() in text:
            found.append(f"e-mail “{email}”")
    for affiliation in identity.affiliations:
        affiliation = _normalise(affiliation).strip()
        if len(affiliation) >= 6 and affiliation in text:
            found.append(f"affiliation “{affiliation}”")
    return found


def _page_layout(textpage, width: float, height: float, step: int) -> dict | None:
    """Geometry of the text on one page from a sample of its characters (digits-only runs such as
    line and page numbers are ignored)."""
    import ctypes

    import pypdfium2.raw as raw

    count = textpage.count_chars()
    if count < 50:
        return None
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    xs0, xs1, ys0, ys1, sizes = [], [], [], [], Counter()
    matrix = raw.FS_MATRIX()
    handle = textpage.raw
    for index in range(0, count, step):
        code = raw.FPDFText_GetUnicode(handle, index)
        if code in (32, 10, 13, 0xFFFE) or 48 <= code <= 57:
            continue
        if not raw.FPDFText_GetCharBox(handle, index, left, right, bottom, top):
            continue
        xs0.append(left.value)
        xs1.append(right.value)
        ys0.append(bottom.value)
        ys1.append(top.value)
        # The em size times the scale of the character's matrix (WeasyPrint, for one, scales by ¾).
        size = raw.FPDFText_GetFontSize(handle, index)
        if raw.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix)):
            size *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
        sizes[round(size * 2) / 2] += 1
    if len(xs0) < 30:
        return None
    # A running head or footer set apart from the body (CVPR's "Submission #17. CONFIDENTIAL REVIEW
    # COPY." line in the top margin) is not part of the text block: drop sparse, separated edge lines.
    low, high = _body_band(sorted((a + b) / 2 for a, b in zip(ys0, ys1, strict=True)))
    keep = [i for i in range(len(xs0)) if low <= (ys0[i] + ys1[i]) / 2 <= high]
    xs0, xs1, ys0, ys1 = ([values[i] for i in keep] for values in (xs0, xs1, ys0, ys1))
    centres = [(a + b) / 2 for a, b in zip(xs0, xs1, strict=True)]
    for values in (xs0, xs1, ys0, ys1):
        values.sort()
    cut = max(1, len(xs0) // 200)  # ignore the outermost 0.5 %
    box = (xs0[cut], ys0[cut], xs1[-cut - 1], ys1[-cut - 1])
    # Columns: the share of characters in each half of the text block, and of those straddling
    # its middle (a two-column page has almost none there, apart from titles and wide figures).
    middle = (box[0] + box[2]) / 2
    gutter = 0.02 * (box[2] - box[0])
    in_gutter = sum(1 for c in centres if abs(c - middle) < gutter)
    left_share = sum(1 for c in centres if c < middle) / len(centres)
    two_columns = in_gutter / len(centres) < 0.01 and 0.2 < left_share < 0.8
    return {"box": box, "two_columns": two_columns, "sizes": sizes}


def _body_band(ys: list[float], *, share: float = 0.06, gap: float = 14.0) -> tuple[float, float]:
    """The vertical range of the body text: edge lines holding under `share` of the characters and
    separated from the rest by more than `gap` points are trimmed, from the top and the bottom."""
    lo, hi = 0, len(ys) - 1
    budget = int(share * len(ys))
    for i in range(lo, min(lo + budget, hi)):
        if ys[i + 1] - ys[i] > gap:
            lo = i + 1
    for i in range(hi, max(hi - budget, lo), -1):
        if ys[i] - ys[i - 1] > gap:
            hi = i - 1
    return ys[lo], ys[hi]


def _fonts_not_embedded(reader, pages: int) -> list[str]:
    missing: set[str] = set()
    seen: set[int] = set()

    def descriptor_embedded(font) -> bool | None:
        descriptor = font.get("/FontDescriptor")
        if descriptor is None:
            return None
        descriptor = descriptor.get_object()
        return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))

    for page in reader.pages[:pages]:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            key = getattr(ref, "idnum", None)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            font = ref.get_object()
            subtype = font.get("/Subtype")
            if subtype == "/Type3":
                continue  # glyphs are drawn by the PDF itself
            target = font
            if subtype == "/Type0" and "/DescendantFonts" in font:
                target = font["/DescendantFonts"][0].get_object()
            if not descriptor_embedded(target):
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    return sorted(missing)


def _metadata_text(reader) -> tuple[str, list[str]]:
    """The PDF metadata (document information and XMP) as one string, and the fields present."""
    parts, present = [], []
    info = reader.metadata or {}
    for key, value in info.items():
        if value:
            present.append(str(key).lstrip("/"))
            parts.append(str(value))
    xmp = reader.trailer["/Root"].get_object().get("/Metadata")
    if xmp is not None:
        present.append("XMP")
        try:
            parts.append(xmp.get_object().get_data().decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - a broken XMP stream is still "present"
            pass
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
        texts: list[str] = []
        layouts: list[dict] = []
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
            texts.append(textpage.get_text_range())
            if index < LAYOUT_SAMPLE_PAGES:
                layout = _page_layout(textpage, width, height, step=2)
                if layout:
                    layout["page"] = index + 1
                    layouts.append(layout)
            textpage.close()
            page.close()
    finally:
        pdf.close()

    # References and the page limit.
    references_page = None
    for number, text in enumerate(texts, start=1):
        match = REFERENCES_RE.search(text)
        if match:
            references_page = number
            above = text[: match.start()].strip()
            content_pages = number if len(above) > 200 else number - 1
            break
    else:
        content_pages = report.pages
    report.references_page = references_page
    report.content_pages = content_pages
    counted = content_pages if rules.references_excluded else report.pages
    where = (
        f"references start on page {references_page}" if references_page else "no references section found"
    )
    if counted > rules.page_limit:
        report.add(
            "pages",
            Level.ERROR,
            "Page limit",
            f"{counted} pages{' before the references' if rules.references_excluded else ''} "
            f"({where}); at most {rules.page_limit} are allowed.",
        )
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

    body_layouts = [lay for lay in layouts if content_pages is None or lay["page"] <= max(content_pages, 1)]
    body_layouts = body_layouts or layouts
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

    # Text block and margins.
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

    # Body font size: the most common size of the sampled characters.
    sizes: Counter = Counter()
    for lay in body_layouts:
        sizes.update(lay["sizes"])
    if sizes:
        body = sizes.most_common(1)[0][0]
        report.body_font_pt = body
        if body < rules.body_font_pt - FONT_TOLERANCE_PT:
            report.add(
                "font_size",
                Level.WARNING,
                "Body font size",
                f"The body text is {body:g} pt; {rules.body_font_pt:g} pt is required.",
            )
        else:
            report.add("font_size", Level.OK, "Body font size", f"The body text is {body:g} pt.")
    elif not any(t.strip() for t in texts):
        report.add(
            "text",
            Level.WARNING,
            "Text",
            "No text found: is the paper a scan? Reviewers and the checks need real text.",
        )

    # Embedded fonts.
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    missing = _fonts_not_embedded(reader, report.pages)
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

    # Anonymity.
    if double_blind:
        body_text = _normalise("\n".join(texts[: references_page - 1 if references_page else None]))
        if references_page:
            body_text += " " + _normalise(
                texts[references_page - 1][: REFERENCES_RE.search(texts[references_page - 1]).start()]
            )
        found = _find_identity(body_text, identity)
        emails = sorted(set(EMAIL_RE.findall(body_text)) - {e.lower() for e in identity.emails})
        if emails:
            found.append("e-mail address " + ", ".join(f"“{e}”" for e in emails[:3]))
        meta_text, present = _metadata_text(reader)
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
        elif present:
            report.add(
                "anonymity_metadata",
                Level.INFO,
                "Metadata",
                f"Metadata fields {', '.join(present)} are removed from the copy reviewers get.",
            )


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
