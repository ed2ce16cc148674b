"""Opening a PDF: the quick inspection an upload form runs (a PDF, not encrypted, opens, page count
within a hard cap), and reading the whole document for the checks: each page's lines of text as a
layout, the page sizes that differ from the rules, the fonts that are not embedded, and the metadata
(document information and XMP packets). PDFium (pypdfium2) reads; nothing here writes."""

import ctypes
import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from .layout import Segment, page_segments
from .report import PdfRefused, QuickInfo

PAGE_SIZES_PT = {"us letter": (612.0, 792.0), "letter": (612.0, 792.0), "a4": (595.28, 841.89)}
SIZE_TOLERANCE_PT = 3.0
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
NOT_A_PDF = "This file is not a PDF (it does not start with %PDF-); export your paper as PDF."


def refuse_unless_pdf_header(path: Path) -> None:
    """Refuses an empty file and one without the PDF header in its first kilobyte."""
    if path.stat().st_size == 0:
        raise PdfRefused("The file is empty (0 bytes).")
    with open(path, "rb") as handle:
        if b"%PDF-" not in handle.read(1024):
            raise PdfRefused(NOT_A_PDF)


def quick_inspect(path: str | Path, *, max_pages: int) -> QuickInfo:
    """The blocking checks an upload form runs synchronously (milliseconds even for large files)."""
    path = Path(path)
    refuse_unless_pdf_header(path)
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


@dataclass
class Document:
    """What the checks need of a file, read once."""

    pages: list[list[Segment]]  # each page's lines of text (furniture not yet marked)
    sizes_off: list[int]  # numbers of the pages whose size is not the expected one
    fonts_not_embedded: set[str]
    meta_text: str  # document information and XMP, as one string
    meta_present: list[str]  # the metadata fields present ("Author", "XMP"…)


def read_document(path: Path, *, expected_size: tuple[float, float] | None) -> Document:
    """Reads every page (its text as a layout, its size, its fonts) and the metadata."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        pages: list[list[Segment]] = []
        fonts: set[str] = set()
        sizes_off: list[int] = []
        for index in range(len(pdf)):
            page = pdf[index]
            if expected_size and not _is_size(page.get_size(), expected_size):
                sizes_off.append(index + 1)
            textpage = page.get_textpage()
            pages.append(page_segments(textpage))
            textpage.close()
            _page_fonts(page, fonts)
            page.close()
        meta_text, meta_present = _metadata_text(pdf, path)
    finally:
        pdf.close()
    return Document(pages, sizes_off, fonts, meta_text, meta_present)


def _is_size(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return abs(size[0] - expected[0]) <= SIZE_TOLERANCE_PT and abs(size[1] - expected[1]) <= SIZE_TOLERANCE_PT


def _page_fonts(page, fonts: set[str]) -> None:
    """Adds to `fonts` the base names of the fonts that are not embedded, used by the page's text
    objects (and by text inside form XObjects). Type 3 fonts count as embedded."""
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
                    fonts.add(_font_name(font))
            elif kind == form_kind:
                visit(raw.FPDFFormObj_GetObject(obj, i) for i in range(raw.FPDFFormObj_CountObjects(obj)))

    handle = page.raw
    visit(get_object(handle, i) for i in range(count_objects(handle)))


def _font_name(font) -> str:
    size = raw.FPDFFont_GetBaseFontName(font, None, 0)
    buffer = ctypes.create_string_buffer(max(1, size))
    raw.FPDFFont_GetBaseFontName(font, buffer, size)
    return buffer.value.decode("utf-8", "replace") or "?"


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
