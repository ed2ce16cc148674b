"""Writes of the camera-ready. Every function is keyword-only; views, admin and tasks call these.

State machines:
- The task (`CameraReady`) of an accepted paper: created on first use (`camera_ready_ensure`); open
  until the edition's camera-ready deadline or the chair's later per-paper extension (judged at the
  instant the request arrived); after it, nothing changes except by a chair's extension.
- A final PDF (`FinalVersion`): pending → passed | warnings | failed. The upload is stored and its
  check (`conference.pdfcheck.check_final_isolated`, in the sandbox) queued on `scoring` through the
  dispatch outbox in the same transaction; a check that finds its version no longer pending does
  nothing (a redelivered task). The beat sweep gives a lost check another message.
- Metadata: unconfirmed → confirmed (title, authors in order with affiliations, abstract); it may be
  confirmed again with changes while the task is open (the submission's rows are never touched).
- Agreement: unsigned → signed, once per paper (a database constraint; a second signature is refused
  with the name and date of the first). Its PDF receipt is rendered with WeasyPrint and the authors
  get a link to it.
- Reminders: a week and a day before the deadline, once each per paper (`reminded_week_at`,
  `reminded_day_at` set under a row lock), only to papers with something missing.
"""

import datetime as dt
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.dispatch import dispatch, ref_for
from common.urls import absolute_url
from conference import pdfcheck
from conference.mail import mail_enqueue
from conference.models import Paper, PaperChange, Workshop
from conference.selectors import paper_format_rules
from conference.services.versions import pdf_checks_recheck_stale
from conference.templatetags.workshop_time import format_in_zone

from . import selectors
from .models import CameraReady, CameraReadySettings, CopyrightAgreement, FinalVersion, Licence

CHECK_TASK = "cameraready.check_final_version"
# The receipt's style, given to WeasyPrint apart from the template (templates carry no inline styles).
RECEIPT_CSS = """
@page { size: Letter; margin: 2cm; }
body { font-family: "DejaVu Serif", serif; font-size: 10.5pt; line-height: 1.4; }
h1 { font-size: 15pt; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; }
th { text-align: left; padding: 0.2em 1em 0.2em 0; vertical-align: top; white-space: nowrap; }
td { padding: 0.2em 0; }
.text { border: 1px solid #999; padding: 0.8em; white-space: pre-line; }
"""
REMINDER_WINDOWS = (("week", dt.timedelta(days=7)), ("day", dt.timedelta(days=1)))


def _deadline_text(paper: Paper, deadline: dt.datetime | None) -> str:
    return format_in_zone(deadline, paper.workshop.time_zone) if deadline else "no deadline set"


def _require_open(paper: Paper, now: dt.datetime) -> None:
    if paper.status != Paper.Status.ACCEPTED:
        raise ValidationError("Only accepted papers have a camera-ready, once the decision is released.")
    deadline = selectors.camera_ready_deadline(paper)
    if deadline is not None and now >= deadline:
        raise ValidationError(
            f"The camera-ready deadline passed ({_deadline_text(paper, deadline)}); nothing was changed. "
            "Ask the chairs for an extension."
        )


def camera_ready_ensure(*, paper: Paper) -> CameraReady:
    """The paper's camera-ready task, created on first use."""
    task, _ = CameraReady.objects.get_or_create(paper=paper)
    return task


def task_url(paper: Paper) -> str:
    return absolute_url(
        reverse("cameraready:paper", kwargs={"workshop": paper.workshop.slug, "number": paper.number})
    )


def _notify_authors(paper: Paper, *, subject: str, template: str, context: dict | None = None) -> None:
    body = render_to_string(
        f"cameraready/mail/{template}",
        {
            "paper": paper,
            "task_url": task_url(paper),
            "metadata": selectors.final_metadata(paper),
            **(context or {}),
        },
    )
    mail_enqueue(
        to=[a.email for a in paper.authors.all()],
        subject=f"[{paper.workshop.short_name} #{paper.number}] {subject}",
        body=body,
    )


def _log(paper: Paper, *, user, summary: str, details: dict | None = None) -> None:
    PaperChange.objects.create(
        paper=paper, user=user, action=PaperChange.Action.EDITED, summary=summary, details=details or {}
    )


# --- The final PDF -------------------------------------------------------------------------------


def final_upload(*, paper: Paper, user, pdf, now: dt.datetime) -> FinalVersion:
    """Stores an uploaded final PDF as the paper's next version and queues its check. Refuses, with
    nothing stored, a late upload and a file that is not a readable, unencrypted PDF (checked at once
    in the sandbox) or larger than CAMERA_READY_PDF_MAX_BYTES."""
    _require_open(paper, now)
    size = getattr(pdf, "size", 0) or 0
    limit = int(settings.CAMERA_READY_PDF_MAX_BYTES)
    if size > limit:
        raise ValidationError(
            f"The PDF is {size / 2**20:.1f} MB; at most {limit / 2**20:.0f} MB is accepted. Nothing was saved."
        )
    with tempfile.TemporaryDirectory(prefix="final-upload-") as tmp:
        local = Path(tmp) / "final.pdf"
        with open(local, "wb") as handle:
            pdf.seek(0)
            for chunk in iter(lambda: pdf.read(1024 * 1024), b""):
                handle.write(chunk)
        try:
            pdfcheck.quick_inspect_isolated(local, max_pages=settings.PAPER_PDF_MAX_PAGES)
        except pdfcheck.PdfRefused as exc:
            raise ValidationError(f"{exc} Nothing was saved.") from exc
    pdf.seek(0)
    with transaction.atomic():
        task = camera_ready_ensure(paper=paper)
        task = CameraReady.objects.select_for_update().get(pk=task.pk)
        number = (task.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = FinalVersion(
            camera_ready=task,
            number=number,
            uploaded_by=user,
            original_name=Path(getattr(pdf, "name", "final.pdf")).name[:255],
            size=size,
        )
        version.pdf.save("final.pdf", File(pdf), save=False)
        version.save()
        _log(paper, user=user, summary=f"Uploaded camera-ready PDF version {number} ({size / 1e6:.1f} MB)")
        dispatch(CHECK_TASK, args=[version.pk], queue="scoring", ref=ref_for(version))
    return version


def _final_rules(paper: Paper) -> pdfcheck.FinalRules:
    names = tuple(author["name"] for author in selectors.final_metadata(paper)["authors"])
    return pdfcheck.FinalRules(max_bytes=int(settings.CAMERA_READY_PDF_MAX_BYTES), author_names=names)


def final_version_check(*, version_id: int, notify: bool = True) -> FinalVersion | None:
    """Runs the camera-ready checks of one uploaded final PDF in the sandbox and records the verdict
    once; the authors get the result by e-mail."""
    version = (
        FinalVersion.objects.select_related("camera_ready__paper__workshop").filter(pk=version_id).first()
    )
    if version is None or version.check_state != FinalVersion.CheckState.PENDING:
        return version
    paper = version.camera_ready.paper
    with tempfile.TemporaryDirectory(prefix="final-check-") as tmp:
        local = Path(tmp) / "final.pdf"
        with version.pdf.open("rb") as src, open(local, "wb") as dst:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                dst.write(chunk)
        report = pdfcheck.check_final_isolated(
            local,
            rules=paper_format_rules(workshop=paper.workshop),
            final=_final_rules(paper),
            max_pages=settings.PAPER_PDF_MAX_PAGES,
        )
    with transaction.atomic():
        version = FinalVersion.objects.select_for_update().get(pk=version.pk)
        if version.check_state != FinalVersion.CheckState.PENDING:
            return version
        _record_verdict(version, report)
        verdict = version.get_check_state_display().lower()
        _log(
            paper,
            user=None,
            summary=f"Camera-ready PDF version {version.number}: {verdict} "
            f"({len(report.errors)} errors, {len(report.warnings)} warnings)",
        )
        if notify:
            _notify_authors(
                paper,
                subject=f"Camera-ready PDF check: {verdict}",
                template="check_result.txt",
                context={"version": version, "items": report.errors + report.warnings, "verdict": verdict},
            )
    return version


def _record_verdict(version: FinalVersion, report: pdfcheck.Report) -> None:
    version.check_report = report.as_dict()
    version.page_count = report.pages or None
    version.checked_at = timezone.now()
    if report.errors:
        version.check_state = FinalVersion.CheckState.FAILED
    elif report.warnings:
        version.check_state = FinalVersion.CheckState.WARNINGS
    else:
        version.check_state = FinalVersion.CheckState.PASSED
    version.save()


def final_versions_recheck_stale(*, now: dt.datetime | None = None) -> dict:
    """The sweep: a final PDF "Checking" for PAPERS_STALE_CHECK_S since its last message is checked
    again; after PAPERS_CHECK_MAX_ATTEMPTS messages it is refused with a reason."""
    return pdf_checks_recheck_stale(
        FinalVersion,
        task=CHECK_TASK,
        failure_message="The check of this PDF did not finish after {attempts} attempts; upload it again.",
        record_failure=_record_verdict,
        now=now,
    )


# --- Metadata ------------------------------------------------------------------------------------


def metadata_confirm(
    *, paper: Paper, user, title: str, abstract: str, authors: list[dict], now: dt.datetime
) -> CameraReady:
    """Stores the final title, abstract and ordered authors ({name, affiliation, email}) as confirmed.
    The submission's own fields and history stay as they are."""
    _require_open(paper, now)
    title, abstract = title.strip(), abstract.strip()
    cleaned = [
        {
            "name": a["name"].strip(),
            "affiliation": a["affiliation"].strip(),
            "email": a["email"].strip().lower(),
        }
        for a in authors
        if a.get("name", "").strip()
    ]
    problems = []
    if not title:
        problems.append("The title is empty.")
    if not abstract:
        problems.append("The abstract is empty.")
    if not cleaned:
        problems.append("List at least one author.")
    for a in cleaned:
        if not a["affiliation"]:
            problems.append(f"Give the affiliation of {a['name']}.")
    emails = [a["email"] for a in cleaned]
    if len(set(emails)) != len(emails):
        problems.append("Each author needs their own e-mail address.")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        task = camera_ready_ensure(paper=paper)
        task = CameraReady.objects.select_for_update().get(pk=task.pk)
        task.title, task.abstract, task.authors = title, abstract, cleaned
        task.metadata_confirmed_at, task.metadata_confirmed_by = now, user
        task.save()
        _log(
            paper, user=user, summary="Confirmed the camera-ready metadata", details={"authors": len(cleaned)}
        )
    return task


# --- Copyright / licence -------------------------------------------------------------------------


def camera_ready_settings_save(
    *, workshop: Workshop, licence: str, agreement_text: str = ""
) -> CameraReadySettings:
    """The chair's choice of licence (and optionally the exact text) for the edition."""
    if licence not in Licence.values:
        raise ValidationError(f"Unknown licence “{licence}”.")
    config, _ = CameraReadySettings.objects.get_or_create(workshop=workshop)
    config.licence, config.agreement_text = licence, agreement_text.strip()
    config.agreement_version = ""
    config.save()
    return config


def agreement_sign(
    *,
    paper: Paper,
    user,
    signer_name: str,
    on_behalf_of: str,
    employer: str = "",
    text_version: str,
    agreed: bool,
    now: dt.datetime,
) -> CopyrightAgreement:
    """Records the signed agreement with its exact text, renders the PDF receipt and mails the authors a
    link to it. Refused: a second signature (naming the first), a form shown with another text version
    than the one in force, a missing name or agreement, after the deadline."""
    _require_open(paper, now)
    existing = selectors.agreement_get(paper)
    if existing:
        raise ValidationError(_already_signed(paper, existing))
    licence, text, version = selectors.agreement_text(paper.workshop)
    problems = []
    if not agreed:
        problems.append("Tick the box to agree to the text.")
    if not signer_name.strip():
        problems.append("Type your full name to sign.")
    if on_behalf_of not in CopyrightAgreement.OnBehalfOf.values:
        problems.append("Say on whose behalf you sign.")
    if on_behalf_of == CopyrightAgreement.OnBehalfOf.EMPLOYER and not employer.strip():
        problems.append("Name the employer you sign for.")
    if text_version != version:
        problems.append(
            "The agreement text changed since the form was shown; read the new text and sign again."
        )
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            agreement = CopyrightAgreement.objects.create(
                paper=paper,
                licence=licence,
                text=text,
                text_version=version,
                signer=user,
                signer_name=signer_name.strip(),
                on_behalf_of=on_behalf_of,
                employer=employer.strip() if on_behalf_of == CopyrightAgreement.OnBehalfOf.EMPLOYER else "",
                signed_at=now,
            )
            agreement.receipt.save("receipt.pdf", ContentFile(receipt_pdf(agreement=agreement)), save=True)
            _log(paper, user=user, summary=f"Signed the {agreement.get_licence_display()} form")
            _notify_authors(
                paper,
                subject=f"{agreement.get_licence_display()} form signed",
                template="agreement_signed.txt",
                context={"agreement": agreement, "receipt_url": receipt_url(paper)},
            )
    except IntegrityError:  # a concurrent signature won the race
        raise ValidationError(_already_signed(paper, selectors.agreement_get(paper))) from None
    return agreement


def agreement_void(*, paper: Paper, user, reason: str, now: dt.datetime | None = None) -> CopyrightAgreement:
    """A chair's way out of a signature given by mistake (the wrong form, the wrong person, an employer
    missing): the agreement is kept with who voided it, when and why, no longer counts, and the authors
    are told to sign again. Refused without a reason or when nothing is signed."""
    now = now or timezone.now()
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Say why the signature is voided; the authors receive the reason.")
    with transaction.atomic():
        agreement = (
            CopyrightAgreement.objects.select_for_update().filter(paper=paper, voided_at__isnull=True).first()
        )
        if agreement is None:
            raise ValidationError(f"Paper #{paper.number} has no signed form to void; nothing was changed.")
        agreement.voided_at, agreement.voided_by, agreement.void_reason = now, user, reason[:500]
        agreement.save(update_fields=["voided_at", "voided_by", "void_reason"])
        _log(
            paper,
            user=user,
            summary=f"Voided the {agreement.get_licence_display()} form signed by {agreement.signer_name}",
            details={"reason": agreement.void_reason},
        )
        _notify_authors(
            paper,
            subject=f"{agreement.get_licence_display()} form: please sign again",
            template="agreement_voided.txt",
            context={
                "agreement": agreement,
                "deadline": _deadline_text(paper, selectors.camera_ready_deadline(paper)),
            },
        )
    return agreement


def _already_signed(paper: Paper, agreement: CopyrightAgreement | None) -> str:
    if agreement is None:
        return "The form of this paper is already signed."
    return (
        f"The {agreement.get_licence_display()} form of this paper was already signed by "
        f"{agreement.signer_name} on {format_in_zone(agreement.signed_at, paper.workshop.time_zone)}; "
        "it is signed once per paper. Nothing was changed."
    )


def receipt_url(paper: Paper) -> str:
    return absolute_url(
        reverse("cameraready:receipt", kwargs={"workshop": paper.workshop.slug, "number": paper.number})
    )


def receipt_pdf(*, agreement: CopyrightAgreement) -> bytes:
    """The receipt: paper, licence, the exact text and its version, signer, on whose behalf, when."""
    import weasyprint  # slow import: only where a receipt is made

    paper = agreement.paper
    html = render_to_string(
        "cameraready/receipt.html",
        {
            "agreement": agreement,
            "paper": paper,
            "workshop": paper.workshop,
            "metadata": selectors.final_metadata(paper),
            "signed_at": format_in_zone(agreement.signed_at, paper.workshop.time_zone),
        },
    )
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(string=RECEIPT_CSS)])


# --- Deadline: extensions and reminders ----------------------------------------------------------


def extension_set(*, paper: Paper, until: dt.datetime | None, user) -> CameraReady:
    """A chair's per-paper extension (None removes it); the authors are told. A later deadline gets its
    own reminders a week and a day before it (the stamps of the earlier deadline are cleared)."""
    with transaction.atomic():
        task = camera_ready_ensure(paper=paper)
        task = CameraReady.objects.select_for_update().get(pk=task.pk)
        before = selectors.camera_ready_deadline(paper, task)
        task.deadline_extended_until = until
        deadline = selectors.camera_ready_deadline(paper, task)
        if deadline is not None and (before is None or deadline > before):
            task.reminded_week_at = task.reminded_day_at = None
        task.save(update_fields=["deadline_extended_until", "reminded_week_at", "reminded_day_at"])
        _log(paper, user=user, summary=f"Camera-ready deadline set to {_deadline_text(paper, deadline)}")
        _notify_authors(
            paper,
            subject="Camera-ready deadline extended",
            template="extended.txt",
            context={"deadline": _deadline_text(paper, deadline)},
        )
    return task


def reminders_send(*, now: dt.datetime | None = None) -> dict:
    """The periodic reminder: a week and a day before its deadline, every accepted paper with something
    missing gets one mail per window, once (the window's stamp is set under a row lock). A paper first
    reached inside the last day gets only the day's reminder."""
    now = now or timezone.now()
    sent = {"week": 0, "day": 0}
    workshops = Workshop.objects.filter(papers__status=Paper.Status.ACCEPTED).distinct()
    for workshop in workshops:
        for row in selectors.camera_ready_status(workshop):
            deadline = row.deadline
            if deadline is None or now >= deadline or deadline - now > REMINDER_WINDOWS[0][1] or row.complete:
                continue
            window = "day" if deadline - now <= REMINDER_WINDOWS[1][1] else "week"
            if _remind_once(row, window=window, deadline=deadline, now=now):
                sent[window] += 1
    return sent


@transaction.atomic
def _remind_once(
    row: selectors.CameraReadyStatus, *, window: str, deadline: dt.datetime, now: dt.datetime
) -> bool:
    paper = row.paper
    task = camera_ready_ensure(paper=paper)
    task = CameraReady.objects.select_for_update().get(pk=task.pk)
    if (task.reminded_day_at if window == "day" else task.reminded_week_at) is not None:
        return False
    if window == "day":
        task.reminded_day_at = now
        task.reminded_week_at = task.reminded_week_at or now
    else:
        task.reminded_week_at = now
    task.save(update_fields=["reminded_week_at", "reminded_day_at"])
    _notify_authors(
        paper,
        subject=f"Camera-ready due in {'a day' if window == 'day' else 'a week'}",
        template="reminder.txt",
        context={"deadline": _deadline_text(paper, deadline), "missing": row.missing},
    )
    return True


def chair_remind(*, workshop: Workshop, user, shown_at: dt.datetime, now: dt.datetime | None = None) -> int:
    """The chair's "remind the missing ones": one mail to the authors of each accepted paper with
    something missing, skipping papers reminded since the confirmation page was shown (a double
    click mails once). Returns the number of papers reminded."""
    now = now or timezone.now()
    count = 0
    for row in selectors.camera_ready_status(workshop):
        if row.complete:
            continue
        with transaction.atomic():
            task = camera_ready_ensure(paper=row.paper)
            task = CameraReady.objects.select_for_update().get(pk=task.pk)
            if task.last_chair_reminder_at and task.last_chair_reminder_at >= shown_at:
                continue
            task.last_chair_reminder_at = now
            task.save(update_fields=["last_chair_reminder_at"])
            _notify_authors(
                row.paper,
                subject="Camera-ready: something is missing",
                template="reminder.txt",
                context={"deadline": _deadline_text(row.paper, row.deadline), "missing": row.missing},
            )
            count += 1
    return count
