"""Camera-ready variants of the LaTeX papers of `tests/latex/papers.py`, compiled by pdflatex and
cached the same way: the final copy (`mai-final.sty` beside this file: no ruler, no review head,
authors named), the review version with the authors' names put in (ruler and head left over), the
anonymous review version, a final copy with a figure whose font is not embedded (a PDF figure using
Helvetica without its font file, included as a form XObject), and one whose body font is mapped to
Times without the font file (`\\pdfmapline`)."""

from pathlib import Path

from tests.latex.papers import STYLE as REVIEW_STYLE
from tests.latex.papers import compile_latex, paper_source

HERE = Path(__file__).resolve().parent
FINAL_STYLE = HERE / "mai-final.sty"
TITLE = "Efficient Image Enhancement Networks for Smartphone NPUs"
AUTHORS = ("Alice Martin", "Bruno Keller", "Chiara Rossi")
AFFILIATION = "ETH Zurich"
AUTHOR_BLOCK = r"Alice Martin\quad Bruno Keller\quad Chiara Rossi\\ ETH Zurich, Switzerland"


def _figure_without_embedded_font() -> bytes:
    """A one-page PDF (a figure) whose label uses Helvetica, declared without a font file."""
    content = b"BT /F1 18 Tf 20 40 Td (Latency on the NPU, ms) Tj ET 0 0 m 300 0 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 320 100] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def compile_with(source: str, files: dict[str, bytes] | None = None) -> bytes:
    """pdflatex on `source` with both styles and `files` beside it, cached by their hash."""
    return compile_latex(source, styles=(REVIEW_STYLE, FINAL_STYLE), files=files, cache_prefix="final-")


def _source(
    *, final: bool = True, authors: str = AUTHOR_BLOCK, preamble: str = "", figure: bool = False
) -> str:
    source = paper_source(title=TITLE, body_pages=8)
    if final:
        source = source.replace(r"\usepackage{mai-review}", r"\usepackage{mai-final}")
    else:
        source = source.replace(
            r"\usepackage{mai-review}", "\\usepackage{mai-review}\n\\usepackage{graphicx}"
        )
    source = source.replace(r"\begin{document}", preamble + "\n\\begin{document}", 1)
    if authors:
        source = source.replace(rf"\maititle{{{TITLE}}}", rf"\maititle[{authors}]{{{TITLE}}}", 1)
    if figure:
        source = source.replace(
            r"\section{Related Work}",
            "\\begin{figure}[t]\\includegraphics[width=\\linewidth]{figure.pdf}"
            "\\caption{Latency.}\\end{figure}\n\\section{Related Work}",
            1,
        )
    return source


def final_paper() -> bytes:
    """The camera-ready as it should be."""
    return compile_with(_source())


def final_paper_named(authors: str) -> bytes:
    """The camera-ready with another author block (names that differ from the author list)."""
    return compile_with(_source(authors=authors))


def review_version_with_names() -> bytes:
    """The review template with the authors' names put in: ruler and confidential head left over."""
    return compile_with(_source(final=False))


def anonymous_review_version() -> bytes:
    """The review version as submitted: "Anonymous CVPR submission"."""
    return compile_with(_source(final=False, authors=""))


def final_paper_with_unembedded_figure_font() -> bytes:
    """A final copy whose figure (a form XObject) uses Helvetica without its font file."""
    return compile_with(_source(figure=True), {"figure.pdf": _figure_without_embedded_font()})


def final_paper_with_unembedded_body_font() -> bytes:
    """A final copy whose Times Roman is mapped without its font file (pdflatex then only names it)."""
    mapline = r'\pdfmapline{=ptmr8r Times-Roman "TeXBase1Encoding ReEncodeFont" <8r.enc}'
    return compile_with(_source(preamble=mapline))
