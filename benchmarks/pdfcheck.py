"""Benchmark of the paper PDF checks (conference/pdfcheck.py) on generated PDFs of 8, 30 and 200 pages.

The PDFs are CVPR-like two-column papers rendered by WeasyPrint (tests/pdf_factory.py) with a
references section and incompressible images, so the 30-page one weighs about 20 MB as the issue's
case ("a 30-page, 20 MB PDF is checked in a few seconds": the target here is under 3 s). Each figure
is the median of `--repeat` runs. `pages_N_s` is what the Celery task runs: the full check
(readability, references and page limit, page size, columns, text block, font size, embedded fonts,
anonymity in text and metadata) plus the anonymised review copy, in an isolated child process;
the in-process check and the review copy alone are printed beside it.

Reference: poppler's `pdftotext -bbox` over the same file (the word boxes a HotCRP-style checker
reads from Ghostscript or poppler before it can start checking); the ratio is reference / our
in-process check (below 1: extracting the boxes alone is faster than our whole check).

    .venv/bin/python benchmarks/pdfcheck.py [--repeat 3]

Ends with one JSON line: {"pages_8_s", "pages_30_s", "pages_200_s", ...}.
"""

import argparse
import json
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

CASES = {  # pages: (body pages, reference pages, image KB per page)
    8: (7, 1, 600),
    30: (26, 4, 800),
    200: (190, 10, 60),
}
TARGET_30_S = 3.0


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
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
        for pages, (body, refs, image_kb) in CASES.items():
            started = time.perf_counter()
            data = pdf_factory.paper_pdf(body_pages=body, reference_pages=refs, image_kb_per_page=image_kb)
            made = time.perf_counter() - started
            path = Path(tmp) / f"paper-{pages}.pdf"
            path.write_bytes(data)
            report = pdfcheck.check_pdf(path, rules=rules, identity=identity, max_pages=1000)
            assert report.pages == pages, (report.pages, pages)
            inline = timed(
                lambda path=path: pdfcheck.check_pdf(path, rules=rules, identity=identity, max_pages=1000),
                args.repeat,
            )
            copy = timed(
                lambda path=path: pdfcheck.make_review_copy(path, Path(tmp) / "copy.pdf"), args.repeat
            )
            # What the Celery task runs: check + review copy in a child process (memory limit, timeout).
            ours = timed(
                lambda path=path: pdfcheck.check_isolated(
                    path, rules=rules, identity=identity, max_pages=1000, review_copy=Path(tmp) / "copy.pdf"
                ),
                args.repeat,
            )
            line = (
                f"{pages:>3} pages, {len(data) / 1e6:5.1f} MB (rendered in {made:4.1f} s): task {ours:6.3f} s "
                f"(in-process check {inline:6.3f} s, review copy {copy:6.3f} s); "
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
            result[f"pages_{pages}_inprocess_check_s"] = round(inline, 4)
            result[f"pages_{pages}_review_copy_s"] = round(copy, 4)
            result[f"pages_{pages}_mb"] = round(len(data) / 1e6, 1)
    print(
        f"30 pages: {result['pages_30_s']:.3f} s against the {TARGET_30_S:.0f} s target "
        f"({TARGET_30_S / result['pages_30_s']:.0f}× under it)"
    )
    ordered = {k: result[k] for k in ("pages_8_s", "pages_30_s", "pages_200_s")}
    ordered.update({k: v for k, v in result.items() if k not in ordered})
    print(json.dumps(ordered))


if __name__ == "__main__":
    main()
