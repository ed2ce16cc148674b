"""The results export from plain rows: CSV, LaTeX, PDF (text read back with pypdf), the SVG plot with its
Pareto front, PNG rendering, fact-sheet PDFs and merging."""

import csv
import io
import xml.etree.ElementTree as ET
import zipfile
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from challenges.finalphase.export import (
    Column,
    ResultRow,
    export_zip,
    factsheet_pdf,
    pdf_to_png,
    pdfs_merge,
    results_csv,
    results_latex,
    results_pdf,
    svg_to_pdf,
)
from challenges.finalphase.plot import Point, pareto_front, plot_svg
from tests.html import line_with

COLUMNS = [
    Column("psnr", "PSNR", 2, True),
    Column("ssim", "SSIM", 4, True),
    Column("runtime_ms", "Runtime, ms", 1, False),
]
ROWS = [
    ResultRow(1, "Team Alpha & Co", {"psnr": 23.1, "ssim": 0.8123, "runtime_ms": 40.0}, score=1.5e12),
    ResultRow(2, "Team_Beta", {"psnr": 22.5, "ssim": 0.8431, "runtime_ms": 20.0}, score=3.1e11),
    ResultRow(
        None,
        "Gamma",
        {"psnr": 24.0, "ssim": 0.9, "runtime_ms": 10.0},
        score=9e13,
        note="unranked: no fact sheet",
    ),
]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_csv_keeps_full_precision_and_marks_unranked():
    rows = list(csv.reader(io.StringIO(results_csv(columns=COLUMNS, rows=ROWS))))
    header = ["rank", "team", "psnr", "ssim", "runtime_ms", "score", "note", "measured_on", "runtime_input"]
    assert rows[0] == header
    assert rows[1][:7] == ["1", "Team Alpha & Co", "23.1", "0.8123", "40.0", "1500000000000.0", ""]
    assert rows[3][0] == "" and rows[3][6] == "unranked: no fact sheet"


def test_latex_is_booktabs_escaped_with_best_ranked_values_bold():
    tex = results_latex(title="MAI 2021 ISP: final results", columns=COLUMNS, rows=ROWS)
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "Team Alpha \\& Co" in tex and "Team\\_Beta" in tex
    assert "PSNR $\\uparrow$" in tex and "Runtime, ms $\\downarrow$" in tex
    # Best among ranked teams only: Gamma (unranked) has better numbers but is not bold.
    assert "\\textbf{23.10}" in tex and "\\textbf{0.8431}" in tex and "\\textbf{20.0}" in tex
    assert "\\textbf{24.00}" not in tex
    assert "$1.500 \\times 10^{12}$" in tex
    assert "-- & Gamma" in tex
    assert tex.count("\\\\") == 4  # header + 3 rows


def test_results_pdf_has_the_table_text_and_the_plot():
    svg = plot_svg(
        [Point("Team Alpha & Co", 40, 23.1), Point("Team_Beta", 20, 22.5)],
        title="Runtime on host-cpu",
        fidelity_label="PSNR",
    )
    data = results_pdf(
        title="MAI 2021 ISP: final results",
        subtitle="Ranked by score",
        columns=COLUMNS,
        rows=ROWS,
        plots=[svg],
    )
    text = pdf_text(data)
    assert "MAI 2021 ISP: final results" in text
    assert line_with(text, "Rank Team") == "Rank Team PSNR ↑ SSIM ↑ Runtime, ms ↓ Score Note"
    assert line_with(text, "Team Alpha & Co 23") == "1 Team Alpha & Co 23.10 0.8123 40.0 1.5e+12"
    assert line_with(text, "Team_Beta 22") == "2 Team_Beta 22.50 0.8431 20.0 3.1e+11"
    assert line_with(text, "Gamma") == "– Gamma 24.00 0.9000 10.0 9e+13 unranked: no fact sheet"
    assert "Runtime on host-cpu" in text
    assert PdfReader(io.BytesIO(data)).metadata.title == "MAI 2021 ISP: final results"


def test_pareto_front_higher_and_lower_is_better():
    pts = [
        Point("A", 40, 23.1),
        Point("B", 20, 22.5),
        Point("C", 80, 23.0),
        Point("D", 10, 21.0),
        Point("E", 30, 22.0),
        Point("F", 20, 22.5),
    ]
    assert [p.label for p in pareto_front(pts)] == ["D", "B", "F", "A"]
    depth = [Point("A", 10, 0.30), Point("B", 20, 0.25), Point("C", 30, 0.26)]
    assert [p.label for p in pareto_front(depth, higher_is_better=False)] == ["A", "B"]


def test_svg_is_well_formed_marks_the_front_and_escapes_labels():
    pts = [Point("<script>", 40, 23.1), Point("B", 20, 22.5), Point("C", 80, 23.0)]
    svg = plot_svg(pts, title="Dimensity 1000+", fidelity_label="PSNR")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    filled = [
        c for c in root.iter(f"{ns}circle") if c.get("fill") == "#c0392b" and c.find(f"{ns}title") is not None
    ]
    assert sorted(c.find(f"{ns}title").text.split(":")[0] for c in filled) == ["<script>", "B"]
    assert len(list(root.iter(f"{ns}polyline"))) == 1
    assert "<script>" not in svg
    assert "No measured" in plot_svg([], title="x", fidelity_label="PSNR")


def test_plot_renders_to_pdf_and_png():
    svg = plot_svg([Point("A", 40, 23.1), Point("B", 20, 22.5)], title="Plot", fidelity_label="PSNR")
    pdf = svg_to_pdf(svg, title="Plot")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (480, 315)  # 640×420 px at 96 dpi, in pt
    png = pdf_to_png(pdf, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.size == (480, 315)
    assert image.convert("RGB").getpixel((5, 5)) == (255, 255, 255)


def _sheet(name, **extra):
    return SimpleNamespace(
        team_name=name,
        method_title=f"{name} Net",
        contact_name="Ada Lovelace",
        contact_email="ada@example.org",
        members=[
            {"name": "Ada Lovelace", "affiliation": "ETH Zürich", "email": "ada@example.org"},
            {"name": "Alan Turing", "affiliation": "Univ. of Manchester", "email": "alan@example.org"},
        ],
        method_description="A U-Net with <b>pixel shuffle</b>.",
        architecture_training="Adam, 100 epochs.",
        training_data_hardware="ZRR dataset; one RTX 3090.",
        runtime_observations="",
        link_list=["https://x.org/code"],
        **extra,
    )


def test_factsheet_pdf_and_merge():
    one = factsheet_pdf(
        sheet=_sheet("Team Alpha"),
        challenge_title="Learned Smartphone ISP",
        workshop_name="MAI 2021",
        results=[("PSNR", "23.10")],
    )
    text = pdf_text(one)
    for expected in [
        "Team Alpha",
        "Team Alpha Net",
        "Ada Lovelace",
        "ETH Zürich",
        "Alan Turing",
        "A U-Net with <b>pixel shuffle</b>.",
        "Adam, 100 epochs.",
        "ZRR dataset",
        "None given.",
        "https://x.org/code",
        "Learned Smartphone ISP",
    ]:
        assert expected in text, expected
    # The results table: each label on its line, its value on the next.
    assert text.split("Final-phase results\n")[1].splitlines()[:2] == ["PSNR", "23.10"]
    meta = PdfReader(io.BytesIO(one)).metadata
    assert meta.title == "Fact sheet: Team Alpha — Learned Smartphone ISP"
    two = factsheet_pdf(
        sheet=_sheet("Team Beta"), challenge_title="Learned Smartphone ISP", workshop_name="MAI 2021"
    )
    merged = pdfs_merge([("Team Alpha", one), ("Team Beta", two)])
    reader = PdfReader(io.BytesIO(merged))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(one)).pages) + len(PdfReader(io.BytesIO(two)).pages)
    assert [o.title for o in reader.outline] == ["Team Alpha", "Team Beta"]
    assert "Team Beta Net" in reader.pages[-1].extract_text()


@pytest.mark.parametrize("with_factsheets", [True, False])
def test_export_zip_holds_every_format(with_factsheets):
    svg = plot_svg([Point("A", 40, 23.1)], title="host-cpu", fidelity_label="PSNR")
    data = export_zip(
        name="mai-2021-isp",
        csv_text="rank\n",
        latex="\\toprule",
        table_pdf=svg_to_pdf(svg),
        plots=[("Host CPU (x86)", svg)],
        factsheets_pdf=b"%PDF-1.7" if with_factsheets else None,
    )
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    expected = {
        "mai-2021-isp/results.csv",
        "mai-2021-isp/results.tex",
        "mai-2021-isp/results.pdf",
        "mai-2021-isp/plot-host-cpu-x86.svg",
        "mai-2021-isp/plot-host-cpu-x86.pdf",
        "mai-2021-isp/plot-host-cpu-x86.png",
    }
    assert names == expected | ({"mai-2021-isp/factsheets.pdf"} if with_factsheets else set())


def test_an_unreadable_uploaded_pdf_is_left_out_with_a_note_not_a_broken_bundle():
    one = factsheet_pdf(
        sheet=_sheet("Team Alpha"), challenge_title="Learned Smartphone ISP", workshop_name="MAI 2021"
    )
    broken = one[: len(one) // 3]  # a truncated upload: starts like a PDF, cannot be read
    garbage = b"%PDF-1.7\n" + bytes(range(256)) * 40
    merged = pdfs_merge(
        [("Team Alpha", one), ("Team Alpha (uploaded)", broken), ("Team Beta (uploaded)", garbage)]
    )
    reader = PdfReader(io.BytesIO(merged))
    titles = [o.title for o in reader.outline]
    assert titles[0] == "Team Alpha"
    assert titles[1:] == ["Team Alpha (uploaded) (left out)", "Team Beta (uploaded) (left out)"]
    note = reader.pages[-1].extract_text()
    assert "Team Beta (uploaded)" in note and "could not be read" in note
