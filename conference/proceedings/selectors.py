"""Reads of the proceedings app (never writing): the chair's settings, accepted papers in programme
order with their final metadata (through `conference.cameraready.selectors` only), the programme,
invited talks, partners, challenge winners, exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings as django_settings
from django.db.models import Prefetch, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from conference.cameraready import selectors as cameraready
from conference.models import Membership, Organiser, Paper, Workshop

from . import cvf
from .models import InvitedTalk, Partner, ProceedingsExport, ProceedingsSettings, ProgrammeSession, Slot

WINNERS_SHOWN = 3


MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def proceedings_settings_for(*, workshop: Workshop) -> ProceedingsSettings:
    """The stored settings, or unsaved defaults until a chair saves them: PDFs not published, the
    BibTeX month the workshop's own (a CVPR workshop in June, an ICCV one in October)."""
    found = ProceedingsSettings.objects.filter(workshop=workshop).first()
    return found or ProceedingsSettings(workshop=workshop, month=MONTHS[workshop.start_date.month - 1])


def accepted_papers(*, workshop: Workshop) -> QuerySet[Paper]:
    """Accepted papers: `Paper.status` becomes accepted only when the chair releases the decisions."""
    return (
        Paper.objects.filter(workshop=workshop, status=Paper.Status.ACCEPTED)
        .select_related("challenge")
        .prefetch_related("topics")
        .order_by("number")
    )


def camera_ready_count(*, workshop: Workshop) -> int:
    """Accepted papers whose checked camera-ready PDF the proceedings export can take now."""
    return sum(1 for paper in accepted_papers(workshop=workshop) if cameraready.final_pdf(paper) is not None)


def paper_slots(*, workshop: Workshop) -> QuerySet[Slot]:
    return (
        Slot.objects.filter(session__workshop=workshop, kind=Slot.Kind.PAPER, paper__isnull=False)
        .select_related("session")
        .order_by("starts_at", "id")
    )


def papers_in_programme_order(*, workshop: Workshop) -> list[Paper]:
    """Accepted papers in the order of their talks in the programme, then those without a talk by
    number: the order of the proceedings' page ranges."""
    papers = {p.pk: p for p in accepted_papers(workshop=workshop)}
    ordered: list[Paper] = []
    for slot in paper_slots(workshop=workshop):
        paper = papers.pop(slot.paper_id, None)
        if paper is not None:
            ordered.append(paper)
    return ordered + sorted(papers.values(), key=lambda p: p.number)


def paper_session_titles(*, workshop: Workshop) -> dict[int, str]:
    titles: dict[int, str] = {}
    for slot in paper_slots(workshop=workshop):
        titles.setdefault(slot.paper_id, slot.session.title)
    return titles


@dataclass
class PaperEntry:
    """An accepted paper as the public page and the export show it."""

    paper: Paper
    title: str
    abstract: str
    authors: list[dict]
    group: str
    pdf: FieldFile | None
    licence: str
    pages: str = ""
    bibtex: str = ""

    @property
    def author_names(self) -> list[str]:
        return [a["name"] for a in self.authors]

    @property
    def affiliations(self) -> list[str]:
        """Each affiliation once, in the authors' order."""
        return list(dict.fromkeys(a["affiliation"] for a in self.authors if a.get("affiliation")))


def _last_export_pages(workshop: Workshop) -> dict[str, str]:
    export = (
        ProceedingsExport.objects.filter(workshop=workshop, state=ProceedingsExport.State.DONE)
        .order_by("-finished_at")
        .first()
    )
    return {str(k): v for k, v in (export.summary.get("pages", {}) if export else {}).items()}


def paper_entries(*, workshop: Workshop, group_by: str = "session") -> list[tuple[str, list[PaperEntry]]]:
    """The accepted papers in programme order, grouped by programme session (papers without a talk
    under "Other papers") or by their first topic; each with its BibTeX (pages from the latest
    finished proceedings export, when there is one)."""
    proceedings = proceedings_settings_for(workshop=workshop)
    sessions = paper_session_titles(workshop=workshop)
    pages = _last_export_pages(workshop)
    papers = papers_in_programme_order(workshop=workshop)
    metadata = [cameraready.final_metadata(p) for p in papers]
    keys = cvf.bibtex_keys(
        [(m["authors"][0]["name"] if m["authors"] else "") for m in metadata],
        year=workshop.start_date.year,
        host_conference=workshop.host_conference,
    )
    groups: dict[str, list[PaperEntry]] = {}
    topic_rank: dict[str, tuple] = {}
    for paper, meta, key in zip(papers, metadata, keys, strict=True):
        if group_by == "topic":
            topic = next(iter(paper.topics.all()), None)
            group = topic.name if topic else "Other topics"
            topic_rank[group] = (topic.order, topic.pk) if topic else (1 << 30, 0)
        else:
            group = sessions.get(paper.pk, "Other papers")
        page_range = pages.get(str(paper.pk), "")
        entry = PaperEntry(
            paper=paper,
            title=meta["title"],
            abstract=meta["abstract"],
            authors=meta["authors"],
            group=group,
            pdf=cameraready.final_pdf(paper) if proceedings.pdfs_published else None,
            licence=cameraready.licence(paper),
            pages=page_range,
        )
        entry.bibtex = bibtex_for(entry, key=key, workshop=workshop, month=proceedings.month)
        groups.setdefault(group, []).append(entry)
    if group_by == "topic":  # topics in the call for papers' order; sessions in the programme's
        return sorted(groups.items(), key=lambda item: topic_rank[item[0]])
    return list(groups.items())


def bibtex_for(entry: PaperEntry, *, key: str, workshop: Workshop, month: str) -> str:
    first, _, last = entry.pages.partition("-")
    return cvf.bibtex_entry(
        key=key,
        authors=entry.author_names,
        title=entry.title,
        month=month,
        year=workshop.start_date.year,
        pages=cvf.PageRange(int(first), int(last)) if first and last else None,
        booktitle=cvf.booktitle(workshop.host_conference),
    )


def published_pdf_paper(*, workshop: Workshop, number: int) -> tuple[Paper, FieldFile] | None:
    """The accepted paper's camera-ready PDF when the chair published the PDFs, else None."""
    if not proceedings_settings_for(workshop=workshop).pdfs_published:
        return None
    paper = accepted_papers(workshop=workshop).filter(number=number).first()
    pdf = cameraready.final_pdf(paper) if paper else None
    return (paper, pdf) if pdf else None


# --- Programme -------------------------------------------------------------------------------------


def programme_sessions(*, workshop: Workshop) -> list[ProgrammeSession]:
    slots = Slot.objects.select_related("paper", "talk", "challenge").order_by("starts_at", "id")
    return list(
        ProgrammeSession.objects.filter(workshop=workshop)
        .prefetch_related(Prefetch("slots", queryset=slots))
        .order_by("starts_at", "id")
    )


def session_get(*, workshop: Workshop, pk) -> ProgrammeSession | None:
    return ProgrammeSession.objects.filter(workshop=workshop, pk=pk).first()


def slot_get(*, workshop: Workshop, pk) -> Slot | None:
    return Slot.objects.filter(session__workshop=workshop, pk=pk).select_related("session").first()


def slots_in_room(*, workshop: Workshop, room: str, exclude_pk=None) -> list[Slot]:
    """Every slot of the edition held in `room` (a slot without a room of its own is in its session's)."""
    found = []
    for slot in Slot.objects.filter(session__workshop=workshop).select_related("session"):
        if slot.pk != exclude_pk and (slot.room or slot.session.room).strip().lower() == room.strip().lower():
            found.append(slot)
    return found


def invited_talks(*, workshop: Workshop) -> QuerySet[InvitedTalk]:
    return InvitedTalk.objects.filter(workshop=workshop)


def invited_talk_get(*, workshop: Workshop, pk) -> InvitedTalk | None:
    return InvitedTalk.objects.filter(workshop=workshop, pk=pk).first()


def partners(*, workshop: Workshop) -> QuerySet[Partner]:
    return Partner.objects.filter(workshop=workshop)


def partner_get(*, workshop: Workshop, pk) -> Partner | None:
    return Partner.objects.filter(workshop=workshop, pk=pk).first()


def challenges_of(*, workshop: Workshop):
    """The edition's challenges (the model through the registry: `conference` does not import
    `challenges`)."""
    return apps.get_model("challenges", "Challenge").objects.filter(workshop=workshop).order_by("title")


@dataclass
class Winners:
    visible: bool
    teams: list[tuple[int, str]] = field(default_factory=list)  # (rank, team name)


def challenge_winners(*, challenge, user) -> Winners:
    """The top of the challenge's final leaderboard, for a viewer who may see that leaderboard (the
    final phase's own visibility rule: organisers at once, others once results are released).

    Asked of whichever installed app offers a `challenge_winners` hook on its AppConfig (the final
    phase does), so `conference` keeps no dependency on `challenges`; none installed → not shown."""
    for config in apps.get_app_configs():
        hook = getattr(config, "challenge_winners", None)
        if hook is None:
            continue
        teams = hook(challenge=challenge, user=user, limit=WINNERS_SHOWN)
        return Winners(visible=False) if teams is None else Winners(visible=True, teams=list(teams))
    return Winners(visible=False)


@dataclass
class PaperTalk:
    title: str
    authors: str  # "Alice Martin, Bruno Keller"


def paper_talk(*, paper: Paper) -> PaperTalk:
    """A scheduled paper as the programme shows it: the confirmed camera-ready title and authors (the
    submission's until the authors confirm), the same the accepted-papers page and the proceedings use."""
    metadata = cameraready.final_metadata(paper)
    return PaperTalk(title=metadata["title"], authors=", ".join(a["name"] for a in metadata["authors"]))


def programme_days(*, workshop: Workshop) -> list[dt.date]:
    zone = workshop.zone
    return sorted(
        {s.starts_at.astimezone(zone).date() for s in ProgrammeSession.objects.filter(workshop=workshop)}
    )


# --- Front matter and exports ------------------------------------------------------------------------


def organisers(*, workshop: Workshop) -> QuerySet[Organiser]:
    return Organiser.objects.filter(workshop=workshop)


def committee(*, workshop: Workshop) -> list[tuple[str, str]]:
    """(name, affiliation) of the programme committee (reviewers and area chairs), by last name."""
    rows = {}
    for membership in Membership.objects.filter(
        workshop=workshop, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
    ).select_related("user__profile"):
        profile = getattr(membership.user, "profile", None)
        name = (
            (profile.full_name if profile else "") or membership.user.get_full_name() or membership.user.email
        )
        rows[membership.user_id] = (name, profile.affiliation if profile else "")
    return sorted(rows.values(), key=lambda r: (cvf.ascii_fold(cvf.last_name(r[0])).lower(), r[0]))


def export_get(*, workshop: Workshop, pk) -> ProceedingsExport | None:
    return ProceedingsExport.objects.filter(workshop=workshop, pk=pk).first()


def exports_of(*, workshop: Workshop) -> QuerySet[ProceedingsExport]:
    return ProceedingsExport.objects.filter(workshop=workshop)[:10]


def export_stale_before(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(seconds=django_settings.PROCEEDINGS_EXPORT_STALE_S)


def image_max_bytes() -> int:
    return django_settings.PROCEEDINGS_IMAGE_MAX_BYTES
