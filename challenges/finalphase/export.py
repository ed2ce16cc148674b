"""The results export for the challenge report paper, from plain rows (no database here): the ranked
table as CSV, LaTeX (booktabs, ready to paste) and PDF; the fidelity/runtime plot as SVG, PDF and PNG;
PDF merging (all fact sheets in one file); and one zip holding all of it.

WeasyPrint turns HTML (and inline SVG) into PDF; pypdfium2 renders a PDF page to PNG; pypdf merges."""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.text import slugify

from common import csv_export
from common.sandbox import SandboxFailure, run_sandboxed


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    precision: int = 2
    higher_is_better: bool | None = None  # None: not a ranking quantity (no arrow)

    @property
    def arrow(self) -> str:
        return "" if self.higher_is_better is None else ("↑" if self.higher_is_better else "↓")


@dataclass
class ResultRow:
    rank: int | None  # None: unranked
    team: str
    values: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    note: str = ""  # e.g. "unranked: no fact sheet"
    device: str = ""  # what measured the runtime, e.g. "Host CPU: …, standing in for Apple A11"
    runtime_input: str = ""  # the input shape the runtime ran at, e.g. "1×480×720×3"


def format_value(value: float | None, precision: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{precision}f}"


def format_score(value: float | None) -> str:
    """Scores span many orders of magnitude (2^(2·PSNR)/…): 4 significant digits."""
    if value is None:
        return "–"
    return f"{value:.4g}"


# --- CSV -------------------------------------------------------------------------------------------
def results_csv(*, columns: list[Column], rows: list[ResultRow]) -> str:
    return csv_export.csv_text(
        (
            [
                r.rank if r.rank is not None else "",
                r.team,
                *["" if r.values.get(c.key) is None else repr(float(r.values[c.key])) for c in columns],
                "" if r.score is None else repr(float(r.score)),
                r.note,
                r.device,
                r.runtime_input,
            ]
            for r in rows
        ),
        header=["rank", "team", *[c.key for c in columns], "score", "note", "measured_on", "runtime_input"],
    )


# --- LaTeX -----------------------------------------------------------------------------------------
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_score(value: float | None) -> str:
    if value is None:
        return "--"
    mantissa, exponent = f"{value:.3e}".split("e")
    exponent = int(exponent)
    if -2 <= exponent <= 4:
        return f"{value:.4g}"
    return f"${mantissa} \\times 10^{{{exponent}}}$"


def results_latex(
    *, title: str, columns: list[Column], rows: list[ResultRow], label: str = "tab:results"
) -> str:
    """A booktabs table (`\\usepackage{booktabs}`), best value of each column in bold."""
    best: dict[str, float] = {}
    ranked = [r for r in rows if r.rank is not None]
    for c in columns:
        vals = [r.values.get(c.key) for r in ranked if r.values.get(c.key) is not None]
        if vals and c.higher_is_better is not None:
            best[c.key] = max(vals) if c.higher_is_better else min(vals)
    arrows = {True: r" $\uparrow$", False: r" $\downarrow$", None: ""}
    header = ["Rank", "Team", *[latex_escape(c.label) + arrows[c.higher_is_better] for c in columns], "Score"]
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\resizebox{\linewidth}{!}{%",
        r"\begin{tabular}{rl" + "r" * (len(columns) + 1) + "}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    for r in rows:
        cells = [str(r.rank) if r.rank is not None else "--", latex_escape(r.team)]
        for c in columns:
            v = r.values.get(c.key)
            text = format_value(v, c.precision).replace("–", "--")
            if v is not None and r.rank is not None and best.get(c.key) == v:
                text = rf"\textbf{{{text}}}"
            cells.append(text)
        cells.append(_latex_score(r.score))
        lines.append(" & ".join(cells) + r" \\")
    lines += [
        r"\bottomrule",
        r"\end{tabular}}",
        rf"\caption{{{latex_escape(title)}}}",
        rf"\label{{{label}}}",
        r"\end{table}",
        "",
    ]
    return "\n".join(lines)


# --- PDF / PNG -------------------------------------------------------------------------------------
def html_to_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def svg_to_pdf(svg: str, *, width: int = 640, height: int = 420, title: str = "") -> bytes:
    """One page exactly the plot's size."""
    return html_to_pdf(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>@page{{size:{width}px {height}px;margin:0}}body{{margin:0}}svg{{display:block}}</style>"
        f"</head><body>{svg}</body></html>"
    )


def pdf_to_png(pdf: bytes, *, scale: float = 2.0, page: int = 0) -> bytes:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page].render(scale=scale).to_pil()
    finally:
        doc.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def results_pdf(
    *, title: str, subtitle: str, columns: list[Column], rows: list[ResultRow], plots: list[str]
) -> bytes:
    return html_to_pdf(
        render_to_string(
            "finalphase/results_pdf.html",
            {
                "title": title,
                "subtitle": subtitle,
                "columns": columns,
                "plots": plots,
                "rows": [
                    {
                        "row": r,
                        "cells": [format_value(r.values.get(c.key), c.precision) for c in columns],
                        "score": format_score(r.score),
                    }
                    for r in rows
                ],
            },
        )
    )


MERGE_TIME_LIMIT_S = 120
MERGE_MEMORY_MB = 2048


def pdfs_merge(pdfs: list[tuple[str, bytes]]) -> bytes:
    """One PDF of many, with an outline entry (bookmark) per part: `pdfs` is [(title, bytes), …].

    Parts may be teams' uploads, so the merge runs in the sandbox; a part that cannot be read is
    replaced by a page saying so. If the sandbox dies on the whole set, each part is tried alone and
    the ones that fail are replaced the same way."""
    try:
        merged, unreadable = _merge_sandboxed(pdfs)
    except SandboxFailure:
        unreadable = {}
        for index, part in enumerate(pdfs):
            try:
                _merge_sandboxed([part])
            except SandboxFailure as exc:
                unreadable[index] = f"the reader stopped ({type(exc).__name__})"
        merged = None
    if unreadable or merged is None:
        pdfs = [
            (f"{title} (left out)", _unreadable_note(title, unreadable[i]))
            if i in unreadable
            else (title, data)
            for i, (title, data) in enumerate(pdfs)
        ]
        merged, _ = _merge_sandboxed(pdfs)
    return merged


def _merge_sandboxed(pdfs: list[tuple[str, bytes]]) -> tuple[bytes, dict[int, str]]:
    with tempfile.TemporaryDirectory(prefix="mai-merge-") as tmp:
        parts = []
        for index, (title, data) in enumerate(pdfs):
            path = Path(tmp) / f"part-{index}.pdf"
            path.write_bytes(data)
            parts.append({"title": title, "path": str(path)})
        output = Path(tmp) / "merged.pdf"
        result, _log = run_sandboxed(
            "challenges.finalphase._pdf_merge_child:merge",
            {"parts": parts, "output": str(output)},
            time_limit_s=MERGE_TIME_LIMIT_S,
            memory_limit_mb=MERGE_MEMORY_MB,
        )
        return output.read_bytes(), {int(k): v for k, v in result["unreadable"].items()}


def _unreadable_note(title: str, reason: str) -> bytes:
    return html_to_pdf(
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<h1>{escape(title)}</h1><p>This PDF could not be read ({escape(reason)}) and is left out of "
        "this bundle. The organisers can ask the team for a new copy.</p></body></html>"
    )


def export_zip(
    *,
    name: str,
    csv_text: str,
    latex: str,
    table_pdf: bytes,
    plots: list[tuple[str, str]],
    factsheets_pdf: bytes | None,
) -> bytes:
    """The whole export as a zip: results.csv/.tex/.pdf, per device plot-<device>.svg/.pdf/.png, and
    factsheets.pdf. `plots` is [(device name, svg), …]."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/results.csv", csv_text)
        zf.writestr(f"{name}/results.tex", latex)
        zf.writestr(f"{name}/results.pdf", table_pdf)
        for device, svg in plots:
            base = f"{name}/plot-{slugify(device) or 'device'}"
            zf.writestr(f"{base}.svg", svg)
            pdf = svg_to_pdf(svg, title=device)
            zf.writestr(f"{base}.pdf", pdf)
            zf.writestr(f"{base}.png", pdf_to_png(pdf))
        if factsheets_pdf:
            zf.writestr(f"{name}/factsheets.pdf", factsheets_pdf)
    return out.getvalue()


# --- Fact sheets -----------------------------------------------------------------------------------
def factsheet_pdf(
    *, sheet, challenge_title: str, workshop_name: str, results: list[tuple[str, str]] | None = None
) -> bytes:
    """One fact sheet (any object with the `FactSheet` fields) as a clean A4 PDF; the title and author
    go into the PDF's metadata. A PDF the team uploaded is appended after the rendered pages."""
    html = render_to_string(
        "finalphase/factsheet_pdf.html",
        {
            "sheet": sheet,
            "challenge_title": challenge_title,
            "workshop_name": workshop_name,
            "members": [m for m in (sheet.members or []) if isinstance(m, dict)],
            "links": getattr(sheet, "link_list", []),
            "results": results or [],
        },
    )
    return html_to_pdf(html)
