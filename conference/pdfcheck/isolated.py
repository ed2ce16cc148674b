"""The PDF checks in the sandbox. PDFium and pypdf parse untrusted files: a crafted PDF could crash
the process, eat memory or loop. `check_isolated` and `quick_inspect_isolated` run them through
`common.sandbox` (address-space limit, no network, dies with its parent, wall-clock watchdog), which
imports this module in the child by name and calls `check_child` / `quick_child`; a child that dies is
a verdict on the file, never a dead web or Celery worker. No Django here: the child imports this."""

import time
from dataclasses import asdict
from pathlib import Path

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

from .checks import check_pdf
from .document import quick_inspect, refuse_unless_pdf_header
from .final import FinalRules, check_final_pdf
from .identity import NO_IDENTITY, Identity
from .report import FormatRules, Level, PdfRefused, QuickInfo, Report
from .review_copy import make_review_copy

CHILD_MEMORY_BYTES = 2 * 1024**3
CHILD_TIMEOUT_S = 120
# What the sandbox imports in the child, by name (the functions at the end of this module).
QUICK_TARGET = "conference.pdfcheck.isolated:quick_child"
CHECK_TARGET = "conference.pdfcheck.isolated:check_child"
FINAL_TARGET = "conference.pdfcheck.isolated:final_child"
REPORT_FIELDS = ("items", "pages", "content_pages", "references_page", "body_font_pt", "seconds")


def _run_child(target: str, request: dict, timeout: float, memory_bytes: int = CHILD_MEMORY_BYTES) -> dict:
    """`target` ("module:function") in the sandbox; a child that dies gives {"crash": why}."""
    try:
        result, _log = run_sandboxed(
            target,
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


def _report_from_child(
    target: str, request: dict, timeout: float, memory_bytes: int, started: float
) -> Report:
    """The report a checking child returned; a child that died gives a report with that reason as the
    file's error (the time taken since `started` included)."""
    result = _run_child(target, request, timeout, memory_bytes)
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
    return Report(**{k: result[k] for k in REPORT_FIELDS})


def quick_inspect_isolated(path: str | Path, *, max_pages: int, timeout: float = 30) -> QuickInfo:
    """`quick_inspect` in the sandbox (raises PdfRefused the same way)."""
    path = Path(path)
    refuse_unless_pdf_header(path)
    result = _run_child(QUICK_TARGET, {"path": str(path), "max_pages": max_pages}, timeout)
    if "crash" in result:
        raise PdfRefused(f"The PDF could not be read ({result['crash']}); export it again.")
    if "refused" in result:
        raise PdfRefused(result["refused"])
    return QuickInfo(pages=result["pages"])


def check_isolated(
    path: str | Path,
    *,
    rules: FormatRules,
    identity: Identity = NO_IDENTITY,
    double_blind: bool = True,
    max_pages: int = 60,
    review_copy: str | Path | None = None,
    timeout: float = CHILD_TIMEOUT_S,
    memory_bytes: int = CHILD_MEMORY_BYTES,
) -> Report:
    """`check_pdf` (and, when it finds no error, `make_review_copy` to `review_copy`) in the sandbox."""
    started = time.perf_counter()
    request = {
        "path": str(path),
        "review_copy": str(review_copy) if review_copy else None,
        "rules": asdict(rules),
        "identity": asdict(identity),
        "double_blind": double_blind,
        "max_pages": max_pages,
    }
    return _report_from_child(CHECK_TARGET, request, timeout, memory_bytes, started)


def check_final_isolated(
    path: str | Path,
    *,
    rules: FormatRules,
    final: FinalRules,
    max_pages: int = 60,
    timeout: float = CHILD_TIMEOUT_S,
    memory_bytes: int = CHILD_MEMORY_BYTES,
) -> Report:
    """The camera-ready checks (`final.check_final_pdf`) in the sandbox."""
    started = time.perf_counter()
    request = {"path": str(path), "rules": asdict(rules), "final": asdict(final), "max_pages": max_pages}
    return _report_from_child(FINAL_TARGET, request, timeout, memory_bytes, started)


# --- In the child ----------------------------------------------------------------------------------


def _format_rules(request: dict) -> FormatRules:
    """The edition's format rules as the parent sent them (JSON turned the tuple into a list)."""
    rules = request["rules"]
    return FormatRules(**{**rules, "text_block_in": tuple(rules["text_block_in"])})


def quick_child(request: dict) -> dict:
    """In the sandbox: the page count, or the refusal."""
    try:
        return {"pages": quick_inspect(request["path"], max_pages=request["max_pages"]).pages}
    except PdfRefused as exc:
        return {"refused": str(exc)}


def check_child(request: dict) -> dict:
    """In the sandbox: the full check, and the review copy when the file has no error."""
    identity = Identity(**{k: tuple(v) for k, v in request["identity"].items()})
    report = check_pdf(
        request["path"],
        rules=_format_rules(request),
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


def final_child(request: dict) -> dict:
    """In the sandbox: the camera-ready checks."""
    final = request["final"]
    final["author_names"] = tuple(final["author_names"])
    report = check_final_pdf(
        request["path"],
        rules=_format_rules(request),
        final=FinalRules(**final),
        max_pages=request["max_pages"],
    )
    return report.as_dict()
