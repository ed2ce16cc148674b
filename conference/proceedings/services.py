"""Writes of the proceedings app: the chair's settings, the programme (sessions and slots, overlaps
refused), invited talks and partners (images checked in the sandbox), proceedings exports (queued
through the outbox, built by the task, swept when stuck).

Every refusal raises `ProceedingsRefused` with the sentence the chair reads; nothing is stored then."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

from common.dispatch import dispatch, dispatch_history, ref_for
from conference.models import Paper, Workshop

from . import selectors
from .isolated import ImageRefused, image_normalised
from .models import InvitedTalk, Partner, ProceedingsExport, ProceedingsSettings, ProgrammeSession, Slot

LOGO_BOX = (600, 300)
PHOTO_BOX = (400, 400)
BUILD_TASK = "proceedings.build_export"


class ProceedingsRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def proceedings_settings_update(
    *, workshop: Workshop, pdfs_published: bool, preface: str, month: str
) -> ProceedingsSettings:
    row, _ = ProceedingsSettings.objects.get_or_create(workshop=workshop)
    row.pdfs_published = pdfs_published
    row.preface = preface
    row.month = month.strip() or selectors.MONTHS[workshop.start_date.month - 1]
    row.save()
    return row


# --- Programme -------------------------------------------------------------------------------------


def _clock(value) -> str:
    """8am, 10:40am (as `{% when %}` writes times)."""
    hour = value.strftime("%I").lstrip("0")
    return hour + (value.strftime(":%M") if value.minute else "") + value.strftime("%p").lower()


def _span(workshop: Workshop, starts_at, ends_at) -> str:
    """ "Fri 25 June 2021, 10:40am–11am" in the workshop's zone."""
    start, end = starts_at.astimezone(workshop.zone), ends_at.astimezone(workshop.zone)
    day = f"{start:%a} {start.day} {start:%B %Y}"
    if end.date() != start.date():
        return f"{day}, {_clock(start)}–{end:%a} {end.day} {end:%B %Y}, {_clock(end)}"
    return f"{day}, {_clock(start)}–{_clock(end)}"


def _check_times(starts_at, ends_at) -> None:
    if starts_at is None or ends_at is None:
        raise ProceedingsRefused("Give a start and an end time.")
    if ends_at <= starts_at:
        raise ProceedingsRefused("The end time must be after the start time.")


@transaction.atomic
def session_save(
    *,
    workshop: Workshop,
    session: ProgrammeSession | None = None,
    title: str,
    room: str,
    chair_name: str,
    starts_at,
    ends_at,
) -> ProgrammeSession:
    _check_times(starts_at, ends_at)
    session = session or ProgrammeSession(workshop=workshop)
    if session.pk:
        outside = session.slots.exclude(starts_at__gte=starts_at, ends_at__lte=ends_at).first()
        if outside is not None:
            raise ProceedingsRefused(
                f"The session would no longer contain its slot {slot_label(outside)} "
                f"({_span(workshop, outside.starts_at, outside.ends_at)}); move or delete that slot first."
            )
    session.title, session.room, session.chair_name = title.strip(), room.strip(), chair_name.strip()
    session.starts_at, session.ends_at = starts_at, ends_at
    session.save()
    return session


@transaction.atomic
def session_delete(*, session: ProgrammeSession) -> None:
    session.delete()


def slot_label(slot: Slot) -> str:
    if slot.kind == Slot.Kind.PAPER and slot.paper_id:
        return f"“{slot.paper.title}”"
    if slot.kind == Slot.Kind.INVITED and slot.talk_id:
        return f"“{slot.talk.title}” ({slot.talk.speaker})"
    if slot.kind == Slot.Kind.CHALLENGE and slot.challenge_id:
        return f"“{slot.title or slot.challenge.title}”"
    return f"“{slot.title or slot.get_kind_display()}”"


@transaction.atomic
def slot_save(
    *,
    session: ProgrammeSession,
    slot: Slot | None = None,
    kind: str,
    starts_at,
    ends_at,
    room: str = "",
    title: str = "",
    paper: Paper | None = None,
    talk: InvitedTalk | None = None,
    challenge=None,
) -> Slot:
    """Creates or changes a slot. Refused: times outside the session, a kind without its paper, talk or
    challenge, a paper that is not accepted in this edition, a paper with a talk already, and any
    overlap with another slot in the same room (the edition's row is locked, so two chairs saving at
    once cannot both pass)."""
    workshop = session.workshop
    Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
    _check_times(starts_at, ends_at)
    if starts_at < session.starts_at or ends_at > session.ends_at:
        raise ProceedingsRefused(
            f"The slot must lie within its session “{session.title}” "
            f"({_span(workshop, session.starts_at, session.ends_at)})."
        )
    paper = paper if kind == Slot.Kind.PAPER else None
    talk = talk if kind == Slot.Kind.INVITED else None
    challenge = challenge if kind == Slot.Kind.CHALLENGE else None
    if kind == Slot.Kind.PAPER:
        if paper is None:
            raise ProceedingsRefused("Choose the accepted paper presented in this talk.")
        if paper.workshop_id != workshop.pk or paper.status != Paper.Status.ACCEPTED:
            raise ProceedingsRefused(
                f"Paper #{paper.number} is not an accepted paper of {workshop.short_name}."
            )
        taken = (
            Slot.objects.filter(paper=paper)
            .exclude(pk=slot.pk if slot else None)
            .select_related("session")
            .first()
        )
        if taken is not None:
            raise ProceedingsRefused(
                f"Paper #{paper.number} already has a talk ({_span(workshop, taken.starts_at, taken.ends_at)}, "
                f"“{taken.session.title}”)."
            )
    if kind == Slot.Kind.INVITED and talk is None:
        raise ProceedingsRefused("Choose the invited talk.")
    if kind == Slot.Kind.CHALLENGE and challenge is None:
        raise ProceedingsRefused("Choose the challenge whose results this session presents.")
    if talk is not None and talk.workshop_id != workshop.pk:
        raise ProceedingsRefused("That invited talk belongs to another edition.")
    if challenge is not None and challenge.workshop_id != workshop.pk:
        raise ProceedingsRefused("That challenge belongs to another edition.")
    effective_room = room.strip() or session.room
    for other in selectors.slots_in_room(
        workshop=workshop, room=effective_room, exclude_pk=slot.pk if slot else None
    ):
        if other.starts_at < ends_at and starts_at < other.ends_at:
            where = f" in room {effective_room}" if effective_room else ""
            raise ProceedingsRefused(
                f"This slot ({_span(workshop, starts_at, ends_at)}) overlaps {slot_label(other)} "
                f"({_span(workshop, other.starts_at, other.ends_at)}){where}. Choose another time or room."
            )
    slot = slot or Slot()
    slot.session, slot.kind, slot.starts_at, slot.ends_at = session, kind, starts_at, ends_at
    slot.room, slot.title = room.strip(), title.strip()
    slot.paper, slot.talk, slot.challenge = paper, talk, challenge
    slot.save()
    return slot


@transaction.atomic
def slot_delete(*, slot: Slot) -> None:
    slot.delete()


# --- Images ------------------------------------------------------------------------------------------


def _normalised_png(upload, box: tuple[int, int]) -> tuple[bytes, dict]:
    """The uploaded image checked and shrunk to PNG in the sandbox; ProceedingsRefused otherwise."""
    if upload.size > selectors.image_max_bytes():
        raise ProceedingsRefused(
            f"The file “{upload.name}” is larger than {selectors.image_max_bytes() // 2**20} MB; nothing was saved."
        )
    with tempfile.TemporaryDirectory(prefix="mai-image-") as tmp:
        source, out = Path(tmp) / "upload", Path(tmp) / "out.png"
        with open(source, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            info = image_normalised(source, out, max_width=box[0], max_height=box[1])
        except ImageRefused as exc:
            raise ProceedingsRefused(f"“{upload.name}” was refused: {exc} Nothing was saved.") from None
        return out.read_bytes(), info


def partner_save(
    *, workshop: Workshop, partner: Partner | None = None, name: str, url: str = "", order: int = 0, logo=None
) -> Partner:
    """Creates or changes a partner; a new one needs a logo. The image is checked before anything is
    written, so a refused logo leaves the partner (and its old logo) as they were."""
    if partner is None and logo is None:
        raise ProceedingsRefused("Upload the partner's logo (PNG, JPEG, GIF or WebP).")
    png = _normalised_png(logo, LOGO_BOX) if logo is not None else None
    with transaction.atomic():
        partner = partner or Partner(workshop=workshop)
        partner.name, partner.url, partner.order = name.strip(), url.strip(), order
        if png is not None:
            data, info = png
            old = partner.logo.name if partner.logo else ""
            partner.logo_token = secrets.token_hex(6)
            partner.logo_width, partner.logo_height = info["width"], info["height"]
            partner.save()
            partner.logo.save("logo.png", ContentFile(data), save=True)
            if old:
                transaction.on_commit(lambda: partner.logo.storage.delete(old))
        else:
            partner.save()
    return partner


def partner_delete(*, partner: Partner) -> None:
    name = partner.logo.name
    storage = partner.logo.storage
    partner.delete()
    if name:
        storage.delete(name)


def invited_talk_save(
    *,
    workshop: Workshop,
    talk: InvitedTalk | None = None,
    speaker: str,
    affiliation: str,
    title: str,
    abstract: str,
    bio: str,
    photo=None,
) -> InvitedTalk:
    png = _normalised_png(photo, PHOTO_BOX) if photo is not None else None
    with transaction.atomic():
        talk = talk or InvitedTalk(workshop=workshop)
        talk.speaker, talk.affiliation, talk.title = speaker.strip(), affiliation.strip(), title.strip()
        talk.abstract, talk.bio = abstract.strip(), bio.strip()
        talk.save()
        if png is not None:
            talk.photo_token = secrets.token_hex(6)
            talk.photo.save("photo.png", ContentFile(png[0]), save=True)
    return talk


# --- Exports -----------------------------------------------------------------------------------------


@transaction.atomic
def export_request(*, workshop: Workshop, user) -> ProceedingsExport:
    """A new export and its build message, committed together (the outbox); an export already queued
    or building for the edition is returned instead of a second one."""
    Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
    running = ProceedingsExport.objects.filter(
        workshop=workshop, state__in=[ProceedingsExport.State.QUEUED, ProceedingsExport.State.RUNNING]
    ).first()
    if running is not None:
        return running
    export = ProceedingsExport.objects.create(
        workshop=workshop, requested_by=user, heartbeat_at=timezone.now()
    )
    dispatch(BUILD_TASK, args=[export.pk], queue="scoring", ref=ref_for(export))
    return export


def _progress(export_id: int):
    def report(stage: str, done: int, total: int) -> None:
        ProceedingsExport.objects.filter(pk=export_id, state=ProceedingsExport.State.RUNNING).update(
            stage=stage, done_steps=done, total_steps=total, heartbeat_at=timezone.now()
        )

    return report


def export_build(*, export_id: int) -> ProceedingsExport | None:
    """queued → running → done | failed. A redelivered message for an export that is already running,
    done or failed does nothing."""
    from .export import ExportRefused, build_proceedings

    with transaction.atomic():
        export = ProceedingsExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.state != ProceedingsExport.State.QUEUED:
            return export
        export.state, export.stage, export.heartbeat_at = (
            ProceedingsExport.State.RUNNING,
            "Starting",
            timezone.now(),
        )
        export.save(update_fields=["state", "stage", "heartbeat_at"])
    with tempfile.TemporaryFile(prefix="mai-proceedings-") as archive:
        try:
            name, summary = build_proceedings(
                workshop=export.workshop, target=archive, progress=_progress(export.pk)
            )
        except ExportRefused as exc:
            return _export_fail(export, str(exc))
        except Exception as exc:
            _export_fail(export, f"The export stopped unexpectedly ({type(exc).__name__}: {exc}).")
            raise
        archive.seek(0)
        with transaction.atomic():
            export = ProceedingsExport.objects.select_for_update().get(pk=export.pk)
            if export.state != ProceedingsExport.State.RUNNING:  # failed by the sweep meanwhile
                return export
            export.archive.save(name, File(archive), save=False)
            export.state, export.stage = ProceedingsExport.State.DONE, "Ready"
            export.summary, export.finished_at = summary, timezone.now()
            export.done_steps = export.total_steps = max(export.total_steps, 1)
            export.save()
    return export


def _export_fail(export: ProceedingsExport, reason: str) -> ProceedingsExport:
    ProceedingsExport.objects.filter(
        pk=export.pk, state__in=[ProceedingsExport.State.QUEUED, ProceedingsExport.State.RUNNING]
    ).update(state=ProceedingsExport.State.FAILED, error=reason, finished_at=timezone.now())
    export.refresh_from_db()
    return export


def exports_sweep(*, now=None, workshop: Workshop | None = None) -> int:
    """Fails exports without a sign of life for PROCEEDINGS_EXPORT_STALE_S (a lost message, a killed
    worker), so none stays unfinished and the chair can start another: a building one since its last
    progress, a queued one since its message reached the broker. One whose message still waits for the
    broker is left alone (the dispatcher sends it when the broker answers). Returns how many failed."""
    now = now or timezone.now()
    cutoff = selectors.export_stale_before(now)
    candidates = ProceedingsExport.objects.filter(
        state__in=[ProceedingsExport.State.QUEUED, ProceedingsExport.State.RUNNING], heartbeat_at__lt=cutoff
    )
    if workshop is not None:
        candidates = candidates.filter(workshop=workshop)
    failed = 0
    for export in candidates:
        if export.state == ProceedingsExport.State.QUEUED:
            history = dispatch_history(ref_for(export))
            if history.pending or (history.last_sent_at and history.last_sent_at >= cutoff):
                continue
        failed += ProceedingsExport.objects.filter(
            pk=export.pk, state=export.state, heartbeat_at__lt=cutoff
        ).update(
            state=ProceedingsExport.State.FAILED,
            error="No worker advanced this export in time (its message was lost or the worker stopped); "
            "start a new one.",
            finished_at=now,
        )
    return failed
