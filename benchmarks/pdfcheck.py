"""Benchmark of the paper PDF checks (conference/pdfcheck/) on generated PDFs of 8, 30 and 200 pages,
and on a 10-page paper compiled by pdflatex in the CVPR-like review style (ruler, running head).

The PDFs are CVPR-like two-column papers rendered by WeasyPrint (tests/pdf_factory.py) with a
references section and incompressible images, so the 30-page one weighs about 20 MB as the issue's
case ("a 30-page, 20 MB PDF is checked in a few seconds": the target here is under 3 s). Each figure
is the median of `--repeat` runs: wall time, with the CPU time of this process and its children
beside it (wall times swing on a shared machine; CPU times much less). `pages_N_s` is what the
Celery task runs: the full check (readability, references and page limit, page size, columns, text
block, font size, embedded fonts, anonymity in text and metadata) plus the anonymised review copy, in
the sandboxed child process; the in-process check and the review copy alone are printed beside it.

The LaTeX paper (tests/latex/: 8 pages of two-column 10 pt Times with the line-number ruler in both
margins and the confidential-review head, then 2 pages of references) is the issue's case for the
cost of one check: `latex_10p_cpu_s` is the CPU time of `check_isolated` (the sandboxed child's CPU
included, read from getrusage), target at most 0.25 CPU-s; wall time is printed beside it. It needs
pdflatex (`make system-packages` installs Debian's TeX Live).

Reference: poppler's `pdftotext -bbox` over the same file (the word boxes a HotCRP-style checker
reads from Ghostscript or poppler before it can start checking); the ratio is reference / our
in-process check (below 1: extracting the boxes alone is faster than our whole check).

    .venv/bin/python benchmarks/pdfcheck.py [--repeat 3] [--latex-repeat 9] [--only-latex]

Ends with one JSON line: {"pages_8_s", "pages_30_s", "pages_200_s", "latex_10p_cpu_s", ...}.
"""

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conference import pdfcheck  # noqa: E402
from tests import pdf_factory  # noqa: E402
from tests.latex import papers as latex  # noqa: E402

CASES = {  # pages: (body pages, reference pages, image KB per page)
    8: (7, 1, 600),
    30: (26, 4, 800),
    200: (190, 10, 60),
}
TARGET_30_S = 3.0
TARGET_LATEX_10P_CPU_S = 0.25


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the sandboxed checks)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn, repeat: int) -> float:
    return timed_cpu(fn, repeat)[0]


def timed_cpu(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `repeat` runs of `fn`."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, started = cpu_seconds(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def latex_case(tmp: str, repeat: int, identity, rules) -> dict[str, float]:
    """The 10-page LaTeX paper: sandboxed check (CPU incl. the child), in-process check, review copy."""
    if not latex.pdflatex_available():
        sys.exit("pdflatex is missing: run `make system-packages` (Debian's TeX Live).")
    started = time.perf_counter()
    data = latex.latex_paper()
    made = time.perf_counter() - started
    path = Path(tmp) / "latex-10.pdf"
    path.write_bytes(data)
    report = pdfcheck.check_isolated(path, rules=rules, identity=identity)
    assert (report.pages, report.content_pages, report.errors) == (10, 8, []), report.as_dict()
    wall, cpu = timed_cpu(lambda: pdfcheck.check_isolated(path, rules=rules, identity=identity), repeat)
    inline_wall, inline_cpu = timed_cpu(
        lambda: pdfcheck.check_pdf(path, rules=rules, identity=identity), repeat
    )
    copy_wall, copy_cpu = timed_cpu(lambda: pdfcheck.make_review_copy(path, Path(tmp) / "copy.pdf"), repeat)
    print(
        f"LaTeX 10 pages, {len(data) / 1e6:4.2f} MB (pdflatex or cache {made:4.1f} s): sandboxed check "
        f"{cpu:5.3f} CPU-s / {wall:5.3f} s wall (target {TARGET_LATEX_10P_CPU_S} CPU-s); in-process check "
        f"{inline_cpu:5.3f} CPU-s / {inline_wall:5.3f} s; review copy {copy_cpu:5.3f} CPU-s / {copy_wall:5.3f} s; "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    return {
        "latex_10p_cpu_s": round(cpu, 4),
        "latex_10p_wall_s": round(wall, 4),
        "latex_10p_inprocess_cpu_s": round(inline_cpu, 4),
        "latex_10p_review_copy_cpu_s": round(copy_cpu, 4),
        "latex_10p_target_cpu_s": TARGET_LATEX_10P_CPU_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latex-repeat", type=int, default=9, help="runs of the LaTeX case (median)")
    parser.add_argument("--only-latex", action="store_true", help="skip the WeasyPrint cases")
    args = parser.parse_args()
    identity = pdfcheck.Identity(
        names=("Alex Author", "Bo Coauthor"),
        emails=("alex@mobile.example",),
        affiliations=("Institute of Mobile Vision",),
    )
    rules = pdfcheck.FormatRules()
    result: dict[str, float] = {}
    pdftotext = shutil.which("pdftotext")
    with tempfile.TemporaryDirectory() as tmp:
        result.update(latex_case(tmp, args.latex_repeat, identity, rules))
        for pages, (body, refs, image_kb) in ({} if args.only_latex else CASES).items():
            started = time.perf_counter()
            data = pdf_factory.paper_pdf(body_pages=body, reference_pages=refs, image_kb_per_page=image_kb)
            made = time.perf_counter() - started
            path = Path(tmp) / f"paper-{pages}.pdf"
            path.write_bytes(data)
            report = pdfcheck.check_pdf(path, rules=rules, identity=identity, max_pages=1000)
            assert report.pages == pages, (report.pages, pages)
            inline, inline_cpu = timed_cpu(
                lambda path=path: pdfcheck.check_pdf(path, rules=rules, identity=identity, max_pages=1000),
                args.repeat,
            )
            copy = timed(
                lambda path=path: pdfcheck.make_review_copy(path, Path(tmp) / "copy.pdf"), args.repeat
            )
            # What the Celery task runs: check + review copy in a child process (memory limit, timeout).
            ours, ours_cpu = timed_cpu(
                lambda path=path: pdfcheck.check_isolated(
                    path, rules=rules, identity=identity, max_pages=1000, review_copy=Path(tmp) / "copy.pdf"
                ),
                args.repeat,
            )
            line = (
                f"{pages:>3} pages, {len(data) / 1e6:5.1f} MB (rendered in {made:4.1f} s): task {ours:6.3f} s "
                f"({ours_cpu:5.3f} CPU-s incl. the child; in-process check {inline:6.3f} s, {inline_cpu:5.3f} "
                f"CPU-s; review copy {copy:6.3f} s); "
                f"{len(report.errors)} errors, {len(report.warnings)} warnings"
            )
            if pdftotext:
                reference = timed(
                    lambda path=path: subprocess.run(
                        [pdftotext, "-q", "-bbox", str(path), str(Path(tmp) / "out.html")], check=True
                    ),
                    args.repeat,
                )
                line += f"; pdftotext -bbox {reference:6.3f} s (ratio to the in-process check {reference / inline:4.1f}×)"
                result[f"pages_{pages}_pdftotext_bbox_s"] = round(reference, 4)
            print(line)
            result[f"pages_{pages}_s"] = round(ours, 4)
            result[f"pages_{pages}_cpu_s"] = round(ours_cpu, 4)
            result[f"pages_{pages}_inprocess_check_s"] = round(inline, 4)
            result[f"pages_{pages}_inprocess_check_cpu_s"] = round(inline_cpu, 4)
            result[f"pages_{pages}_review_copy_s"] = round(copy, 4)
            result[f"pages_{pages}_mb"] = round(len(data) / 1e6, 1)
    if "pages_30_s" in result:
        print(
            f"30 pages: {result['pages_30_s']:.3f} s against the {TARGET_30_S:.0f} s target "
            f"({TARGET_30_S / result['pages_30_s']:.0f}× under it)"
        )
    ordered = {
        k: result[k] for k in ("pages_8_s", "pages_30_s", "pages_200_s", "latex_10p_cpu_s") if k in result
    }
    ordered.update({k: v for k, v in result.items() if k not in ordered})
    print(json.dumps(ordered))


if __name__ == "__main__":
    main()
