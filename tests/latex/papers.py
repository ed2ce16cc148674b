"""Papers compiled by real LaTeX (pdflatex, Debian's TeX Live) in the project's own CVPR-like review
style (`mai-review.sty` beside this file: two-column 10 pt Times, US Letter, 6⅞ × 8⅞ in text block,
line-number ruler in both margins, "CVPR #***** CONFIDENTIAL REVIEW COPY" running head, page numbers).

`latex_paper(...)` writes the LaTeX source of one paper and compiles it; the PDF is cached on disk by
the SHA-256 of its source and the style file, so a test session (and the next one) compiles each
variant once. The traps of issue 12 are parameters:

- `overflow_lines=k`: the last body column is filled to its last line and `k` more lines of the
  conclusion run onto the next page, where the "References" heading follows them (no page break);
  with `k=0` the body ends at the foot of its last page and "References" is at the top of the next;
- `font_pt`: the body set in another size (9.3 pt, 9.5 pt) with the template's proportions;
- `title`, `body_note`: text that names a company (the device maker of the title, an acknowledgement).

Plain functions, no Django: the benchmark (`benchmarks/pdfcheck.py`) uses them too.
"""

import functools
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STYLE = HERE / "mai-review.sty"
# Lines per column of the style: floor((8⅞ in − topskip 10 pt) / baselineskip 12 pt) + 1, in TeX points.
LINES_PER_COLUMN = int((8.875 * 72.27 - 10) // 12) + 1

WORDS = [
    "mobile",
    "devices",
    "run",
    "deep",
    "networks",
    "for",
    "photo",
    "enhancement",
    "depth",
    "estimation",
    "and",
    "recognition",
    "we",
    "study",
    "quantisation",
    "pruning",
    "and",
    "efficient",
    "operators",
    "under",
    "strict",
    "latency",
    "budgets",
    "compare",
    "fidelity",
    "against",
    "runtime",
    "on",
    "smartphone",
    "neural",
    "processing",
    "units",
    "the",
    "proposed",
    "model",
    "reaches",
    "a",
    "higher",
    "accuracy",
    "with",
    "fewer",
    "parameters",
    "while",
    "its",
    "inference",
    "time",
    "stays",
    "within",
    "the",
    "limits",
    "of",
    "the",
    "target",
    "platform",
    "our",
    "results",
    "show",
    "that",
    "integer",
    "arithmetic",
    "preserves",
    "most",
    "of",
    "the",
    "quality",
    "of",
    "the",
    "floating",
    "point",
    "baseline",
    "the",
    "dataset",
    "contains",
    "paired",
    "images",
    "captured",
    "in",
    "daylight",
    "and",
    "at",
    "night",
    "with",
    "several",
    "sensors",
    "each",
    "layer",
    "is",
    "fused",
    "with",
    "its",
    "activation",
    "and",
    "the",
    "memory",
    "traffic",
    "between",
    "the",
    "blocks",
    "is",
    "reduced",
]


def pdflatex_available() -> bool:
    return shutil.which("pdflatex") is not None


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 18))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, chars: int) -> str:
    parts, length = [], 0
    while length < chars:
        parts.append(_sentence(rng))
        length += len(parts[-1]) + 1
    return " ".join(parts)


def _text(rng: random.Random, chars: int, paragraph_chars: int = 650) -> str:
    paragraphs = []
    while chars > 0:
        paragraphs.append(_paragraph(rng, min(chars, paragraph_chars)))
        chars -= len(paragraphs[-1])
    return "\n\n".join(paragraphs)


def line_text(index: int) -> str:
    """The words of the `index`-th full line of the last body column (unique per line, ~44 chars, set
    justified to the column width)."""
    rng = random.Random(10_000 + index)
    words: list[str] = []
    while len(" ".join(words)) < 38:
        words.append(rng.choice(WORDS))
    return f"{' '.join(words)} line {index + 1}"


def paper_source(
    *,
    title: str = "Efficient Image Enhancement Networks for Smartphone NPUs",
    body_pages: int = 8,
    overflow_lines: int = 0,
    font_pt: float | None = None,
    body_note: str = "",
    references: int = 60,
    seed: int = 1,
) -> str:
    """The LaTeX source of a review-copy paper (see the module docstring)."""
    rng = random.Random(seed)
    out = [
        r"\documentclass[10pt,twocolumn,letterpaper]{article}",
        r"\usepackage{mai-review}",
        r"\begin{document}",
        rf"\maititle{{{title}}}",
    ]
    if font_pt:
        out.append(rf"\fontsize{{{font_pt}}}{{{round(font_pt * 1.2, 1)}}}\selectfont")
    sections = ["Introduction", "Related Work", "Method", "Training", "Experiments", "Ablations", "Results"]
    for page in range(1, body_pages):
        out.append(rf"\section{{{sections[(page - 1) % len(sections)]}}}")
        if page == 1 and body_note:
            out.append(body_note)
        out.append(_text(rng, 3000 if page == 1 else 4400))
        out.append(r"\clearpage")
    # The last body page: the conclusion fills the left column partly, then the right column is set
    # line by line to its last line, and `overflow_lines` more lines run onto the next page.
    out.append(r"\section{Conclusion}")
    out.append(_text(rng, 1800))
    out.append(r"\newpage")
    for index in range(LINES_PER_COLUMN + overflow_lines):
        out.append(rf"\noindent\makebox[\linewidth][s]{{{line_text(index)}}}\par")
    if not overflow_lines:
        out.append(r"\clearpage")
    out.append(r"{\small")
    out.append(r"\section*{References}")
    for number in range(1, references + 1):
        out.append(
            rf"\noindent\hangindent=1.5em [{number}] A. Researcher and B. Scientist. "
            rf"Fast mobile networks for image restoration, part {number}. In CVPR Workshops, "
            rf"pages {100 + number}--{108 + number}, 2021.\par"
        )
    out.append("}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def cache_dir() -> Path:
    path = Path(os.environ.get("MAI_LATEX_CACHE") or Path(tempfile.gettempdir()) / "mai-latex-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_latex(
    source: str,
    *,
    styles: tuple[Path, ...] = (STYLE,),
    files: dict[str, bytes] | None = None,
    cache_prefix: str = "",
) -> bytes:
    """pdflatex on `source` with `styles` (the project's review style by default) on its search path
    and `files` beside it, cached by the hash of all of them."""
    files = files or {}
    digest = hashlib.sha256(
        b"".join(style.read_bytes() for style in styles) + source.encode() + b"".join(files.values())
    ).hexdigest()[:24]
    cached = cache_dir() / f"{cache_prefix}{digest}.pdf"
    if cached.exists():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="mai-latex-") as tmp:
        (Path(tmp) / "paper.tex").write_text(source)
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        search_path = "".join(f"{folder}//:" for folder in dict.fromkeys(style.parent for style in styles))
        env = {**os.environ, "TEXINPUTS": search_path, "SOURCE_DATE_EPOCH": "1614556800"}
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
            cwd=tmp,
            env=env,
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError("pdflatex failed:\n" + done.stdout.decode(errors="replace")[-3000:])
        data = (Path(tmp) / "paper.pdf").read_bytes()
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(cached)
    return data


@functools.lru_cache(maxsize=32)
def latex_paper(**kwargs) -> bytes:
    """The compiled PDF of `paper_source(**kwargs)`."""
    return compile_latex(paper_source(**kwargs))
