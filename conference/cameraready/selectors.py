"""Reads of the camera-ready: the deadline of a paper, its task, final versions, the confirmed
metadata (falling back to the submission's), the licence signed, the agreement text in force, and
the chair's status rows. Nothing here writes; writes are in `services`.

The proceedings export (`conference.proceedings`) uses `final_pdf`, `final_metadata`, `licence` and
`camera_ready_status`; their signatures stay as they are."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from conference.models import ImportantDate, Paper, Workshop

from .agreements import STANDARD_TEXTS, text_version
from .models import CameraReady, CameraReadySettings, CopyrightAgreement, FinalVersion, Licence


def camera_ready_get(paper: Paper) -> CameraReady | None:
    """The paper's camera-ready task, or None when nobody opened it yet."""
    return CameraReady.objects.filter(paper=paper).first()


def camera_ready_settings_get(workshop: Workshop) -> CameraReadySettings:
    """The edition's settings; unsaved defaults (IEEE copyright, standard text) until a chair saves."""
    found = CameraReadySettings.objects.filter(workshop=workshop).first()
    return found or CameraReadySettings(workshop=workshop)


def agreement_text(workshop: Workshop) -> tuple[str, str, str]:
    """(licence, exact text, version id) authors of the edition agree to now."""
    config = camera_ready_settings_get(workshop)
    text = config.agreement_text.strip() or STANDARD_TEXTS[Licence(config.licence)]
    return config.licence, text, config.agreement_version.strip() or text_version(text)


def edition_deadline(workshop: Workshop) -> dt.datetime | None:
    """The edition's camera-ready deadline (the latest such date when several are listed)."""
    found = (
        ImportantDate.objects.filter(workshop=workshop, kind=ImportantDate.Kind.CAMERA_READY)
        .order_by("-at")
        .first()
    )
    return found.at if found else None


def camera_ready_deadline(paper: Paper, task: CameraReady | None = None) -> dt.datetime | None:
    """The paper's camera-ready deadline: the edition's, or a chair's later per-paper extension.
    Enforced at the instant (no grace): a second late is late."""
    deadline = edition_deadline(paper.workshop)
    task = task if task is not None else camera_ready_get(paper)
    if (
        task
        and task.deadline_extended_until
        and (deadline is None or task.deadline_extended_until > deadline)
    ):
        return task.deadline_extended_until
    return deadline


def camera_ready_is_open(paper: Paper, now: dt.datetime | None = None) -> bool:
    """Whether authors may still upload, confirm and sign: the paper is accepted (its decision
    released) and the deadline has not passed."""
    if paper.status != Paper.Status.ACCEPTED:
        return False
    deadline = camera_ready_deadline(paper)
    return deadline is None or (now or timezone.now()) < deadline


def final_versions(paper: Paper) -> list[FinalVersion]:
    """Every final PDF uploaded for the paper, newest first."""
    return list(FinalVersion.objects.filter(camera_ready__paper=paper).order_by("-number"))


def final_version_current(paper: Paper) -> FinalVersion | None:
    """The newest final PDF that passed the camera-ready checks (possibly with warnings)."""
    return (
        FinalVersion.objects.filter(
            camera_ready__paper=paper,
            check_state__in=[FinalVersion.CheckState.PASSED, FinalVersion.CheckState.WARNINGS],
        )
        .order_by("-number")
        .first()
    )


def final_version_get(paper: Paper, number: int) -> FinalVersion | None:
    return FinalVersion.objects.filter(camera_ready__paper=paper, number=number).first()


def final_pdf(paper: Paper) -> FieldFile | None:
    """The accepted paper's checked camera-ready PDF (open with `.open("rb")`), or None while there
    is none (not accepted, nothing uploaded, or no upload passed the checks)."""
    if paper.status != Paper.Status.ACCEPTED:
        return None
    version = final_version_current(paper)
    return version.pdf if version else None


def _submission_authors(paper: Paper) -> list[dict]:
    return [
        {"name": a.name, "affiliation": a.affiliation, "email": a.email}
        for a in paper.authors.order_by("order")
    ]


def final_metadata(paper: Paper) -> dict:
    """{"title", "abstract", "authors": [{"name", "affiliation", "email"}, …in order], "confirmed"}:
    what the authors confirmed for the camera-ready, or the submission's data while they have not."""
    task = camera_ready_get(paper)
    if task and task.metadata_confirmed_at:
        return {
            "title": task.title,
            "abstract": task.abstract,
            "authors": [dict(author) for author in task.authors],
            "confirmed": True,
        }
    return {
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": _submission_authors(paper),
        "confirmed": False,
    }


def agreement_get(paper: Paper) -> CopyrightAgreement | None:
    """The standing (not voided) agreement of the paper, or None."""
    return (
        CopyrightAgreement.objects.filter(paper=paper, voided_at__isnull=True)
        .select_related("signer")
        .first()
    )


def licence(paper: Paper) -> str:
    """The licence signed for the paper ("IEEE copyright", "CC BY 4.0"), or "" while unsigned."""
    agreement = agreement_get(paper)
    return agreement.get_licence_display() if agreement else ""


@dataclass
class CameraReadyStatus:
    """One row of the chair's camera-ready page."""

    paper: Paper
    deadline: dt.datetime | None
    extended: bool
    pdf_state: str  # "" (nothing uploaded) or a FinalVersion.CheckState value of the newest upload
    pdf_checked: bool  # a final PDF passed the checks
    metadata_confirmed: bool
    copyright_signed: bool
    licence: str
    signer_name: str
    last_reminded_at: dt.datetime | None

    @property
    def complete(self) -> bool:
        return self.pdf_checked and self.metadata_confirmed and self.copyright_signed

    @property
    def missing(self) -> list[str]:
        names = []
        if not self.pdf_checked:
            names.append("final PDF")
        if not self.metadata_confirmed:
            names.append("metadata")
        if not self.copyright_signed:
            names.append("copyright form")
        return names


def accepted_papers(workshop: Workshop) -> QuerySet[Paper]:
    return Paper.objects.filter(workshop=workshop, status=Paper.Status.ACCEPTED).order_by("number")


def camera_ready_status(workshop: Workshop) -> list[CameraReadyStatus]:
    """The camera-ready status of every accepted paper of the edition, by number (a fixed number of
    queries whatever the count)."""
    papers = list(accepted_papers(workshop))
    tasks = {t.paper_id: t for t in CameraReady.objects.filter(paper__in=papers)}
    agreements = {
        a.paper_id: a for a in CopyrightAgreement.objects.filter(paper__in=papers, voided_at__isnull=True)
    }
    newest: dict[int, str] = {}
    checked: set[int] = set()
    for paper_id, state in (
        FinalVersion.objects.filter(camera_ready__paper__in=papers)
        .order_by("-number")
        .values_list("camera_ready__paper_id", "check_state")
    ):
        newest.setdefault(paper_id, state)
        if state in (FinalVersion.CheckState.PASSED, FinalVersion.CheckState.WARNINGS):
            checked.add(paper_id)
    edition = edition_deadline(workshop)
    rows = []
    for paper in papers:
        task = tasks.get(paper.pk)
        agreement = agreements.get(paper.pk)
        extension = task.deadline_extended_until if task else None
        extended = bool(extension and (edition is None or extension > edition))
        rows.append(
            CameraReadyStatus(
                paper=paper,
                deadline=extension if extended else edition,
                extended=extended,
                pdf_state=newest.get(paper.pk, ""),
                pdf_checked=paper.pk in checked,
                metadata_confirmed=bool(task and task.metadata_confirmed_at),
                copyright_signed=agreement is not None,
                licence=agreement.get_licence_display() if agreement else "",
                signer_name=agreement.signer_name if agreement else "",
                last_reminded_at=task.last_chair_reminder_at if task else None,
            )
        )
    return rows


STATUS_CSV_HEADER = [
    "number",
    "title",
    "deadline (UTC)",
    "final PDF",
    "PDF checked",
    "metadata confirmed",
    "copyright signed",
    "licence",
    "signed by",
]


def status_export_rows(workshop: Workshop) -> list[list]:
    """The rows of the chair's CSV (header: `STATUS_CSV_HEADER`)."""
    rows = []
    for row in camera_ready_status(workshop):
        rows.append(
            [
                row.paper.number,
                final_metadata(row.paper)["title"],
                row.deadline.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if row.deadline else "",
                row.pdf_state,
                "yes" if row.pdf_checked else "no",
                "yes" if row.metadata_confirmed else "no",
                "yes" if row.copyright_signed else "no",
                row.licence,
                row.signer_name,
            ]
        )
    return rows


def licence_label(value: str) -> str:
    return Licence(value).label if value in Licence.values else ""
