"""PDFs made by the test suite (and the benchmark): CVPR-like two-column papers rendered by WeasyPrint,
plus the broken kinds an upload form must refuse (encrypted, corrupt, hundreds of pages, not a PDF).

Every function returns bytes and is cached, so a test session renders each variant once. Importing
this module needs no Django (the benchmark imports it before any setup).
"""

import functools
import io
import random

LOREM = (
    "Mobile devices run deep networks for photo enhancement, depth estimation and recognition. "
    "We study quantisation, pruning and efficient operators under strict latency budgets, and "
    "compare fidelity against runtime on smartphone neural processing units. "
)
PAGE_CSS = """
@page { size: %(size)s; margin: %(margin)s;
        @top-center { content: "%(header)s"; font-size: 8pt; vertical-align: middle; } }
body { font-family: 'DejaVu Serif', serif; font-size: %(font)spt; line-height: 1.2; }
h1 { font-size: 14pt; text-align: center; margin: 0 0 6pt; column-span: all; }
.authors { text-align: center; margin: 0 0 8pt; column-span: all; }
.page { column-count: %(columns)s; column-gap: 22.5pt; break-after: page; }
.page:last-child { break-after: auto; }
h2 { font-size: 11pt; margin: 4pt 0; }
p { margin: 0 0 4pt; text-align: justify; }
img { width: 100%%; height: 60pt; }
"""


def _noise_png(seed: int, side: int) -> str:
    """A PNG of random pixels (incompressible), as a data URI: it makes PDFs as large as wanted."""
    import base64

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@functools.lru_cache(maxsize=64)
def paper_pdf(
    *,
    body_pages: int = 6,
    reference_pages: int = 1,
    title: str = "Efficient Networks on Phones",
    authors: tuple[str, ...] = (),
    meta_author: str = "",
    size: str = "letter",
    columns: int = 2,
    font_pt: float = 10,
    header: str = "",
    margin: str = "72pt 58.5pt 81pt 58.5pt",
    image_kb_per_page: int = 0,
    text_per_page: int = 3000,
) -> bytes:
    """A paper of `body_pages` pages of two-column text, then `reference_pages` pages starting with a
    "References" heading. `authors` are printed under the title (breaking anonymity); `meta_author`
    goes into the PDF metadata (Author, and WeasyPrint sets Creator/Producer)."""
    from weasyprint import HTML

    image_side = int((image_kb_per_page * 1024 / 3) ** 0.5) if image_kb_per_page else 0
    chunks = []
    words = (LOREM * (text_per_page // len(LOREM) + 1))[:text_per_page]
    for number in range(body_pages):
        head = ""
        if number == 0:
            head = f"<h1>{title}</h1>"
            if authors:
                head += f"<p class='authors'>{', '.join(authors)}</p>"
        image = f"<img src='{_noise_png(number, image_side)}' alt=''>" if image_side else ""
        chunks.append(
            f"<section class='page'>{head}<h2>{number + 1}. Section</h2>{image}<p>{words}</p></section>"
        )
    for number in range(reference_pages):
        heading = "<h2>References</h2>" if number == 0 else ""
        entries = "".join(
            f"<p>[{i}] A. Researcher and B. Scientist. Fast mobile networks, part {i}. In CVPR "
            f"Workshops, 2021.</p>"
            for i in range(1 + number * 24, 25 + number * 24)
        )
        chunks.append(f"<section class='page'>{heading}{entries}</section>")
    meta = f"<meta name='author' content='{meta_author}'>" if meta_author else ""
    css = PAGE_CSS % {"size": size, "font": font_pt, "columns": columns, "margin": margin, "header": header}
    html = f"<html><head><title>{title}</title>{meta}<style>{css}</style></head><body>{''.join(chunks)}</body></html>"
    return HTML(string=html).write_pdf()


@functools.lru_cache(maxsize=8)
def blank_pages_pdf(pages: int) -> bytes:
    """A valid PDF with `pages` empty US Letter pages (e.g. 500, far over any limit)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@functools.lru_cache(maxsize=4)
def encrypted_pdf(user_password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(paper_pdf(body_pages=1, reference_pages=0))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then garbage: the header of a real file with its body destroyed."""
    good = paper_pdf(body_pages=1, reference_pages=0)
    rng = random.Random(7)
    return good[:64] + bytes(rng.randrange(256) for _ in range(4000))


def not_a_pdf() -> bytes:
    """A PNG renamed .pdf."""
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


def unembedded_font_pdf() -> bytes:
    """A one-page PDF written by hand whose text uses the standard Helvetica font, not embedded."""
    from conference.seed import pdf_from_objects  # needs Django set up (pytest-django does it)

    content = b"BT /F1 10 Tf 72 700 Td (Plain text in a font that is not embedded.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return pdf_from_objects(objects)
