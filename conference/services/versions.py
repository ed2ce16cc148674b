"""PDF versions of a paper: every upload kept as a new version and its check queued; the check itself
(in the sandbox, `pdfcheck.check_isolated`) with the review copy written when the file passes; the
verdict recorded once, a draft paper submitted by its first usable version, and the authors told.

The states of a version: pending → passed | warnings | failed. A check that finds its version no
longer pending does nothing (a redelivered task)."""

import datetime as dt
import hashlib
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from common.dispatch import dispatch, dispatch_history, ref_for

from .. import pdfcheck
from ..models import Paper, PaperChange, PaperVersion
from ..selectors import paper_format_rules, paper_identity
from .notify import log_change, paper_notify_authors


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def add_version(paper: Paper, *, user, pdf, supplementary) -> PaperVersion:
    """Stores the upload as the paper's next version (supplementary material carried over from the
    previous version unless new material comes with it) and queues its check after commit."""
    number = (paper.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PaperVersion(
        paper=paper,
        number=number,
        uploaded_by=user,
        original_name=Path(getattr(pdf, "name", "paper.pdf")).name[:255],
        size=getattr(pdf, "size", 0) or 0,
        sha256=_sha256(pdf),
    )
    version.original.save("original.pdf", File(pdf), save=False)
    if supplementary is None and number > 1:
        previous = paper.versions.exclude(supplementary="").order_by("-number").first()
        if previous:
            version.supplementary = previous.supplementary.name  # the same stored file, not a copy
    elif supplementary is not None:
        version.supplementary.save(supplementary.name, File(supplementary), save=False)
    version.save()
    log_change(
        paper,
        user=user,
        action=PaperChange.Action.PDF_UPLOADED,
        summary=f"Uploaded PDF version {number} ({version.size / 1e6:.1f} MB)",
        details={"version": number, "sha256": version.sha256, "supplementary": bool(supplementary)},
    )
    # Through the dispatch outbox: the version and its message commit together, so a broker outage
    # delays the check and loses none (the sweep below gives a lost or killed check another run).
    dispatch(CHECK_TASK, args=[version.pk], queue="scoring", ref=ref_for(version))
    return version


CHECK_TASK = "conference.check_paper_version"


def pdf_checks_recheck_stale(
    model, *, task: str, failure_message: str, record_failure, now: dt.datetime | None = None
) -> dict:
    """The stale-check sweep shared by submitted and camera-ready PDFs: a row of `model` pending for
    PAPERS_STALE_CHECK_S since the last `task` message (lost, or its worker was killed) gets another
    message; after PAPERS_CHECK_MAX_ATTEMPTS messages it is refused through `record_failure(row,
    report)` with `failure_message` (formatted with `attempts`). One whose message still waits for
    the broker is the outbox dispatcher's."""
    now = now or timezone.now()
    stale = dt.timedelta(seconds=float(settings.PAPERS_STALE_CHECK_S))
    counts = {"rechecked": 0, "failed": 0}
    with transaction.atomic():
        pending = model.objects.select_for_update(skip_locked=True).filter(
            check_state=model.CheckState.PENDING, created_at__lt=now - stale
        )
        for version in pending:
            history = dispatch_history(ref_for(version), task=task)
            if history.pending or (history.last_sent_at and history.last_sent_at > now - stale):
                continue
            if history.count >= int(settings.PAPERS_CHECK_MAX_ATTEMPTS):
                report = pdfcheck.Report()
                report.add(
                    "readable",
                    pdfcheck.Level.ERROR,
                    "Readable PDF",
                    failure_message.format(attempts=history.count),
                )
                record_failure(version, report)
                counts["failed"] += 1
                continue
            dispatch(task, args=[version.pk], queue="scoring", ref=ref_for(version))
            counts["rechecked"] += 1
    return counts


def paper_versions_recheck_stale(*, now: dt.datetime | None = None) -> dict:
    """The sweep (beat, every BEAT_SWEEP_EVERY_S): no uploaded PDF stays "Checking" forever (see
    pdf_checks_recheck_stale); a refused one tells the authors to upload again."""
    return pdf_checks_recheck_stale(
        PaperVersion,
        task=CHECK_TASK,
        failure_message="The check of this PDF did not finish after {attempts} attempts; upload it again "
        "(e.g. exported anew). The chairs were told.",
        record_failure=lambda version, report: _record_verdict(version, report, None),
        now=now,
    )


def paper_version_check(*, version_id: int, notify: bool = True) -> PaperVersion | None:
    """Runs the PDF check of one version, writes its review copy when it passes, and moves a draft
    paper to SUBMITTED. Running it twice for the same version does nothing the second time."""
    version = PaperVersion.objects.select_related("paper__workshop").filter(pk=version_id).first()
    if version is None or version.check_state != PaperVersion.CheckState.PENDING:
        return version
    with tempfile.TemporaryDirectory(prefix="paper-check-") as tmp:
        report, review_copy = _check_in_sandbox(version, Path(tmp))
        with transaction.atomic():
            version = PaperVersion.objects.select_for_update().get(pk=version.pk)
            if version.check_state != PaperVersion.CheckState.PENDING:
                return version
            _record_verdict(version, report, review_copy)
            paper = Paper.objects.select_for_update().get(pk=version.paper_id)
            verdict = version.get_check_state_display().lower()
            log_change(
                paper,
                user=None,
                action=PaperChange.Action.PDF_CHECKED,
                summary=f"PDF version {version.number}: {verdict} "
                f"({len(report.errors)} errors, {len(report.warnings)} warnings)",
                details={"version": version.number, "state": version.check_state},
            )
            _submit_if_draft(paper, version)
            if notify:
                _notify_verdict(paper, version, report, verdict)
    return version


def _check_in_sandbox(version: PaperVersion, tmp: Path) -> tuple[pdfcheck.Report, Path | None]:
    """The check of a local copy of the stored original; the review copy's path when one was written
    (no error)."""
    paper = version.paper
    source = tmp / "original.pdf"
    with version.original.open("rb") as src, open(source, "wb") as dst:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            dst.write(chunk)
    review_copy = tmp / f"paper-{paper.number}.pdf"
    report = pdfcheck.check_isolated(
        source,
        rules=paper_format_rules(workshop=paper.workshop),
        identity=paper_identity(paper=paper),
        double_blind=paper.workshop.double_blind,
        max_pages=settings.PAPER_PDF_MAX_PAGES,
        review_copy=review_copy,
    )
    if report.errors or not review_copy.exists():
        return report, None
    return report, review_copy


def _record_verdict(version: PaperVersion, report: pdfcheck.Report, review_copy: Path | None) -> None:
    """Stores the report, the review copy and the state (failed on errors, warnings, or passed)."""
    if review_copy is not None:
        with open(review_copy, "rb") as handle:
            version.review_copy.save(review_copy.name, File(handle), save=False)
    version.check_report = report.as_dict()
    version.page_count = report.pages or None
    version.check_seconds = report.seconds
    version.checked_at = timezone.now()
    if report.errors:
        version.check_state = PaperVersion.CheckState.FAILED
    elif report.warnings:
        version.check_state = PaperVersion.CheckState.WARNINGS
    else:
        version.check_state = PaperVersion.CheckState.PASSED
    version.save()


def _submit_if_draft(paper: Paper, version: PaperVersion) -> None:
    """A draft becomes SUBMITTED with its first usable version (at that version's upload time)."""
    if version.is_usable and paper.status == Paper.Status.DRAFT:
        paper.status = Paper.Status.SUBMITTED
        paper.submitted_at = version.created_at
        paper.revision += 1
        paper.save()
        log_change(
            paper,
            user=None,
            action=PaperChange.Action.SUBMITTED,
            summary=f"Submitted with PDF version {version.number}",
        )


def _notify_verdict(paper: Paper, version: PaperVersion, report: pdfcheck.Report, verdict: str) -> None:
    items = report.errors + report.warnings
    if version.check_state == PaperVersion.CheckState.FAILED:
        template = "check_refused.txt"
    else:
        template = "check_passed.txt"
    paper_notify_authors(
        paper=paper,
        subject=f"PDF check: {verdict}",
        template=template,
        context={
            "version": version,
            "items": items,
            "still_draft": paper.status == Paper.Status.DRAFT,
            "status": paper.get_status_display().lower(),
        },
    )
