"""Reads of the organiser console (never writing): track address checks, milestone labels and dates in
the workshop's zone, the score-formula preview on the current results, the organiser's dashboard
(registrations to approve, teams, submissions per day, scoring failures, runtime jobs queued per
device, devices online) and what an irreversible action would remove, with its fingerprint."""

import datetime as dt
import hashlib
import json
import zoneinfo
from dataclasses import dataclass, field

from django.contrib.admin.utils import NestedObjects
from django.db import router
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from conference.templatetags.workshop_time import format_in_zone
from evaluation import selectors as evaluation_selectors
from evaluation.models import RuntimeJob

from ..finalphase.formula import SAMPLE_VALUES, FormulaError, formula_validate
from ..finalphase.models import ModelSubmission
from ..finalphase.selectors import final_settings_for
from ..models import Challenge, DataFile, Milestone, Registration, Submission, Team

MILESTONE_LABELS = dict(Milestone.Kind.choices)


def milestone_label(kind: str) -> str:
    return MILESTONE_LABELS.get(kind, kind)


def in_workshop_zone(at: dt.datetime, workshop) -> str:
    return format_in_zone(at, workshop.time_zone or "UTC")


def short_date(at: dt.datetime, workshop) -> str:
    local = at.astimezone(zoneinfo.ZoneInfo(workshop.time_zone or "UTC"))
    return f"{local.day} {local:%b %Y}"


def user_organises_in_workshop(*, user, workshop) -> bool:
    """Whether the user organises one of the edition's tracks (such organisers may add tracks)."""
    if not user or not user.is_authenticated or workshop is None:
        return False
    return Challenge.objects.filter(workshop=workshop, organisers=user).exists()


def track_slug_taken(*, workshop, slug: str) -> bool:
    return Challenge.objects.filter(workshop=workshop, slug=slug).exists()


def next_track_order(*, workshop) -> int:
    return (Challenge.objects.filter(workshop=workshop).aggregate(n=Max("order"))["n"] or 0) + 1


def milestones_of(*, challenge: Challenge) -> dict[str, dt.datetime]:
    return dict(Milestone.objects.filter(challenge=challenge).values_list("kind", "at"))


@dataclass
class MilestoneMove:
    """A published (already set) milestone that a change moves, or removes (`new` None)."""

    kind: str
    label: str
    old: dt.datetime
    new: dt.datetime | None


def milestone_moves(*, challenge: Challenge, values: dict[str, dt.datetime | None]) -> list[MilestoneMove]:
    """What of the published timeline these values change (adding a milestone moves nothing)."""
    current = milestones_of(challenge=challenge)
    return [
        MilestoneMove(kind=kind, label=milestone_label(kind), old=current[kind], new=at)
        for kind, at in values.items()
        if kind in current and at != current[kind]
    ]


def milestones_fingerprint(*, challenge: Challenge) -> str:
    """Of the milestones as they are: a confirmation made from other milestones is refused."""
    current = sorted((kind, at.isoformat()) for kind, at in milestones_of(challenge=challenge).items())
    return _fingerprint([challenge.pk, current])


# --- Score formula preview --------------------------------------------------------------------------


@dataclass
class PreviewRow:
    team: str
    quantities: dict
    current: float | None
    preview: float | None
    error: str = ""
    rank: int | None = None


@dataclass
class FormulaPreview:
    error: str = ""
    rows: list[PreviewRow] = field(default_factory=list)
    sample_value: float | None = None
    names: list[str] = field(default_factory=list)


def formula_preview(*, challenge: Challenge, source: str, constants: dict) -> FormulaPreview:
    """The formula evaluated on every measured final submission of the track (one row per submission,
    ranked by the new score), or the reason it cannot be: a formula that does not parse, or one that
    cannot be computed even on plausible values, gives `error` and no rows."""
    try:
        # Parsed, and evaluated once on plausible values (PSNR 30 dB, runtime 50 ms…) as saving does.
        formula = formula_validate(source, constants=constants)
        sample = formula.evaluate(SAMPLE_VALUES)
    except FormulaError as exc:
        return FormulaPreview(error=exc.message)
    rows = []
    submissions = (
        ModelSubmission.objects.filter(challenge=challenge, status=ModelSubmission.Status.DONE)
        .select_related("team")
        .order_by("team__name", "-created_at")[:200]
    )
    for submission in submissions:
        quantities = submission.quantities()
        try:
            value, error = formula.evaluate(quantities), ""
        except FormulaError as exc:
            value, error = None, exc.message
        rows.append(
            PreviewRow(
                team=submission.team.name,
                quantities={k: quantities.get(k) for k in sorted(formula.names)},
                current=submission.score,
                preview=value,
                error=error,
            )
        )
    ranked = sorted((r for r in rows if r.preview is not None), key=lambda r: -r.preview)
    for rank, row in enumerate(ranked, start=1):
        row.rank = rank
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0))
    return FormulaPreview(rows=rows, sample_value=sample, names=sorted(formula.names))


def final_settings(*, challenge: Challenge):
    return final_settings_for(challenge=challenge)


# --- Dashboard --------------------------------------------------------------------------------------


@dataclass
class DeviceRow:
    slug: str
    name: str
    online: bool
    status: str
    queued: int
    running: int
    is_target: bool


@dataclass
class Dashboard:
    pending_registrations: list[Registration]
    registrations: int
    teams: list[Team]
    per_day: list[tuple[dt.date, int, int]]
    validation_failures: list[Submission]
    final_failures: list[ModelSubmission]
    devices: list[DeviceRow]


def _per_day(challenge: Challenge, now: dt.datetime, days: int) -> list[tuple[dt.date, int, int]]:
    zone = zoneinfo.ZoneInfo(challenge.workshop.time_zone or "UTC")
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)

    def counts(model):
        return dict(
            model.objects.filter(challenge=challenge, created_at__gte=since)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )

    validation, final = counts(Submission), counts(ModelSubmission)
    return [
        (day, validation.get(day, 0), final.get(day, 0))
        for day in (first + dt.timedelta(days=i) for i in range(days))
    ]


def dashboard(*, challenge: Challenge, now: dt.datetime | None = None, days: int = 14) -> Dashboard:
    now = now or timezone.now()
    registrations = Registration.objects.filter(challenge=challenge)
    target = final_settings_for(challenge=challenge).device_slug
    jobs = {
        slug: (queued, running)
        for slug, queued, running in RuntimeJob.objects.filter(state__in=["queued", "running"])
        .values("device__slug")
        .annotate(
            queued=Count("id", filter=Q(state="queued")), running=Count("id", filter=Q(state="running"))
        )
        .values_list("device__slug", "queued", "running")
    }
    devices = [
        DeviceRow(
            slug=d.slug,
            name=d.name,
            online=d.effective_status != d.Status.OFFLINE,
            status=d.get_status_display() if d.effective_status != d.Status.OFFLINE else "Offline",
            queued=jobs.get(d.slug, (0, 0))[0],
            running=jobs.get(d.slug, (0, 0))[1],
            is_target=d.slug == target,
        )
        for d in evaluation_selectors.device_list()
    ]
    return Dashboard(
        pending_registrations=list(
            registrations.filter(approved=False).select_related("user__profile").order_by("created_at")
        ),
        registrations=registrations.count(),
        teams=list(
            Team.objects.filter(challenge=challenge)
            .annotate(
                members=Count("memberships", distinct=True),
                subs=Count("submissions", distinct=True),
                finals=Count("model_submissions", distinct=True),
            )
            .order_by("name")
        ),
        per_day=_per_day(challenge, now, days),
        validation_failures=list(
            Submission.objects.filter(challenge=challenge, status=Submission.Status.FAILED)
            .select_related("team")
            .order_by("-created_at")[:50]
        ),
        final_failures=list(
            ModelSubmission.objects.filter(challenge=challenge, status=ModelSubmission.Status.FAILED)
            .select_related("team")
            .order_by("-created_at")[:50]
        ),
        devices=devices,
    )


# --- Confirmations of irreversible actions ----------------------------------------------------------


@dataclass
class Deletion:
    """What an irreversible action removes, in counts; `blocked` says why it may not happen at all."""

    counts: dict[str, int]
    fingerprint: str
    blocked: str = ""


def _fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def data_file_deletion(*, data_file: DataFile) -> Deletion:
    counts = {"bytes stored": data_file.size if data_file.file else 0}
    if data_file.split == DataFile.Split.VALIDATION_GT:
        counts["validation submissions scored (their scores stay)"] = Submission.objects.filter(
            challenge_id=data_file.challenge_id, status=Submission.Status.DONE
        ).count()
    return Deletion(
        counts=counts,
        fingerprint=_fingerprint(
            [data_file.pk, data_file.sha256, data_file.file.name, data_file.external_url]
        ),
    )


def track_deletion(*, challenge: Challenge) -> Deletion:
    """What deleting the track removes, counted by Django's own deletion collector (so rows other apps
    attach to a track are counted too), and why it may not happen: participants' work (teams,
    submissions), or rows that protect the track (challenge papers, programme slots…)."""
    collector = NestedObjects(using=router.db_for_write(Challenge))
    collector.collect([challenge])
    counts = {
        str(model._meta.verbose_name_plural): len(rows)
        for model, rows in sorted(collector.data.items(), key=lambda item: item[0]._meta.label)
        if model is not Challenge
    }
    protected: dict[str, int] = {}
    for row in collector.protected:
        name = str(type(row)._meta.verbose_name_plural)
        protected[name] = protected.get(name, 0) + 1
    made_by_participants = (
        challenge.teams.exists()
        or challenge.submissions.exists()
        or ModelSubmission.objects.filter(challenge=challenge).exists()
    )
    blocked = ""
    if made_by_participants:
        blocked = (
            "This track has teams or submissions: it cannot be deleted, so that nothing participants "
            "made is lost. Move its milestones instead to close it."
        )
    elif protected:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(protected.items()))
        blocked = f"This track cannot be deleted: {listed} refer to it."
    counts.update({f"{name} (refer to it)": n for name, n in protected.items()})
    return Deletion(counts=counts, fingerprint=_fingerprint(counts), blocked=blocked)
