"""Reads of the final phase: the track's settings, who the viewer is, a team's submissions, fact sheet
and code, which submission counts for a team, the device that measures, the final leaderboard (ranked,
then unranked teams), the results export and all fact sheets as one PDF. Selectors never write."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from challenges import timeline
from challenges.models import Challenge, Registration, Team, TeamMembership
from challenges.selectors import timeline_for, user_organises
from evaluation.models import Device, RuntimeJob
from evaluation.selectors import runtime_job_get_by_pk, runtime_job_queue_position

from . import export, visibility
from .models import CodeSubmission, FactSheet, FinalPhaseSettings, ModelSubmission
from .plot import Point, plot_svg

RUNTIME_COLUMNS = [
    export.Column("runtime_ms", "Runtime, ms", 2, False),
    export.Column("memory_mb", "Memory, MB", 1, False),
]
POWER_COLUMN = export.Column("power_w", "Power, W", 2, False)


def final_settings_for(*, challenge: Challenge) -> FinalPhaseSettings:
    """The track's stored settings, or (not stored yet) the defaults they will be created with."""
    stored = FinalPhaseSettings.objects.filter(challenge=challenge).first()
    return stored or FinalPhaseSettings(challenge=challenge, constants={"C": 1.0})


def measured_on_for(*, challenge: Challenge, settings: FinalPhaseSettings) -> str:
    """The label of the device the track's runtime is measured on (see `measured_on_label`)."""
    device = Device.objects.filter(slug=settings.device_slug).first()
    if device is None:
        return f"{settings.device_slug} (not registered yet)"
    return measured_on_label(challenge=challenge, device=device)


def measured_on_label(*, challenge: Challenge, device) -> str:
    """The device that measured, as pages and exports show it: a host CPU standing in for the track's
    target ("Host CPU: …, standing in for Apple A11") when the target device itself is not registered."""
    target = (challenge.target_platform or "").split(",")[0].split("/")[0].split("(")[0].strip()
    if device.transport == "local" and target and target.lower() not in device.name.lower():
        return f"{device.name}, standing in for {target}"[:200]
    return device.name


def submissions_counted_against_limit(*, team: Team) -> int:
    return ModelSubmission.objects.filter(team=team).exclude(status=ModelSubmission.Status.FAILED).count()


def factsheet_for_team(*, team: Team | None) -> FactSheet | None:
    if team is None:
        return None
    return FactSheet.objects.filter(team=team).select_related("challenge__workshop").first()


def code_submission_for_team(*, team: Team | None) -> CodeSubmission | None:
    return CodeSubmission.objects.filter(team=team).first() if team is not None else None


def factsheet_get(*, challenge: Challenge, team_id: int) -> FactSheet | None:
    return (
        FactSheet.objects.filter(challenge=challenge, team_id=team_id)
        .select_related("challenge__workshop")
        .first()
    )


def code_submission_get(*, challenge: Challenge, team_id: int) -> CodeSubmission | None:
    return CodeSubmission.objects.filter(challenge=challenge, team_id=team_id).first()


def model_submission_get(*, challenge: Challenge, public_id) -> ModelSubmission | None:
    """The challenge's submission with this public id (its team and workshop loaded), or None."""
    return (
        ModelSubmission.objects.select_related("team", "challenge__workshop")
        .filter(challenge=challenge, public_id=public_id)
        .first()
    )


def model_submissions_for_challenge(*, challenge: Challenge) -> list[ModelSubmission]:
    """Every submission of every team, failures included, newest first (organisers)."""
    return list(
        ModelSubmission.objects.filter(challenge=challenge).select_related("team").order_by("-created_at")
    )


def model_submission_runtime_progress(*, submission: ModelSubmission) -> str:
    """Where the runtime job stands, in words (queue position while it waits for the device)."""
    if submission.runtime_status != ModelSubmission.Step.RUNNING or not submission.runtime_job_id:
        return ""
    job = runtime_job_get_by_pk(pk=submission.runtime_job_id)
    if job is None:
        return ""
    position = runtime_job_queue_position(job=job)
    if position:
        return f"Waiting for the device: position {position} in its queue"
    return "Running on the device" if job.state == RuntimeJob.State.RUNNING else ""


def viewer_for(user, challenge: Challenge) -> visibility.Viewer:
    if user_organises(user=user, challenge=challenge):
        return visibility.Viewer.ORGANISER
    if (
        user
        and user.is_authenticated
        and (
            Registration.objects.filter(challenge=challenge, user=user).exists()
            or TeamMembership.objects.filter(challenge=challenge, user=user).exists()
        )
    ):
        return visibility.Viewer.PARTICIPANT
    return visibility.Viewer.PUBLIC


def leaderboard_visible_to(
    user, challenge: Challenge, *, now=None, settings: FinalPhaseSettings | None = None
) -> bool:
    settings = settings or final_settings_for(challenge=challenge)
    return visibility.leaderboard_visible(
        timeline_for(challenge),
        now or timezone.now(),
        viewer=viewer_for(user, challenge),
        public_after_workshop=settings.public_after_workshop,
        over_at=visibility.workshop_over_at(challenge.workshop.end_date, challenge.workshop.time_zone),
    )


def own_results_visible_to(
    user, challenge: Challenge, *, now=None, settings: FinalPhaseSettings | None = None
) -> bool:
    settings = settings or final_settings_for(challenge=challenge)
    return visibility.own_results_visible(
        timeline_for(challenge),
        now or timezone.now(),
        viewer=viewer_for(user, challenge),
        show_own_results_early=settings.show_own_results_early,
    )


def submissions_for_team(*, team: Team) -> list[ModelSubmission]:
    return list(ModelSubmission.objects.filter(team=team).order_by("-created_at"))


def counted_submission(*, team: Team, settings: FinalPhaseSettings, closes_at=None) -> ModelSubmission | None:
    """The team's submission that counts: the one it selected (when teams select) or else its last
    valid (measured) one submitted before the deadline."""
    valid = ModelSubmission.objects.filter(team=team, status=ModelSubmission.Status.DONE)
    if closes_at is not None:
        valid = valid.filter(created_at__lt=closes_at)
    if settings.counting_policy == FinalPhaseSettings.CountingPolicy.TEAM_SELECTED:
        chosen = valid.filter(selected=True).first()
        if chosen:
            return chosen
    return valid.order_by("-created_at", "-pk").first()


@dataclass
class Standing:
    team: Team
    submission: ModelSubmission
    rank: int | None = None
    has_factsheet: bool = False
    has_code: bool = False
    notes: list[str] = field(default_factory=list)
    runtime_input: str = ""  # the input shape the runtime job ran at ("1×480×720×3")

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


@dataclass
class Leaderboard:
    challenge: Challenge
    columns: list[export.Column]
    standings: list[Standing]
    fidelity: dict | None  # the primary metric

    def rows(self) -> list[export.ResultRow]:
        return [
            export.ResultRow(
                rank=s.rank,
                team=s.team.name,
                values={c.key: s.submission.quantities().get(c.key) for c in self.columns},
                score=s.submission.score,
                note=s.note,
                device=s.submission.device_name,
                runtime_input=s.runtime_input,
            )
            for s in self.standings
        ]

    def plots(self) -> list[tuple[str, str]]:
        """[(device name, SVG)], one plot per device the counted submissions ran on."""
        if not self.fidelity:
            return []
        key = self.fidelity["key"]
        by_device: dict[str, list[Point]] = {}
        for s in self.standings:
            value = (s.submission.metrics or {}).get(key)
            if value is None or s.submission.runtime_ms is None:
                continue
            by_device.setdefault(s.submission.device_name or "device", []).append(
                Point(s.team.name, s.submission.runtime_ms, float(value))
            )
        return [
            (
                device,
                plot_svg(
                    points,
                    title=f"{self.challenge.title}: {self.fidelity.get('label', key)} vs runtime on {device}",
                    fidelity_label=self.fidelity.get("label", key),
                    higher_is_better=bool(self.fidelity.get("higher_is_better", True)),
                ),
            )
            for device, points in sorted(by_device.items())
        ]


def leaderboard_columns(challenge: Challenge, submissions: list[ModelSubmission]) -> list[export.Column]:
    columns = [
        export.Column(
            m["key"],
            m.get("label", m["key"]),
            int(m.get("precision", 2)),
            bool(m.get("higher_is_better", True)),
        )
        for m in challenge.metrics or []
    ]
    columns += RUNTIME_COLUMNS
    if any(s.power_w is not None for s in submissions):
        columns.append(POWER_COLUMN)
    return columns


def _attach_runtime_inputs(standings: list[Standing]) -> None:
    """The shape each submission's runtime job ran at, in one query."""
    job_ids = [s.submission.runtime_job_id for s in standings if s.submission.runtime_job_id]
    shapes = {
        job.pk: job.input_shape_display
        for job in RuntimeJob.objects.filter(pk__in=job_ids).only("input_shapes")
    }
    for s in standings:
        s.runtime_input = shapes.get(s.submission.runtime_job_id, "")


def final_leaderboard(*, challenge: Challenge) -> Leaderboard:
    """Every team with a counted submission: ranked teams (score, then the earlier submission) first,
    then unranked ones (no fact sheet or code, or no score) with the reason."""
    settings = final_settings_for(challenge=challenge)
    closes_at = timeline.phase_closes_at(timeline_for(challenge), timeline.Phase.FINAL)
    with_sheet = set(FactSheet.objects.filter(challenge=challenge).values_list("team_id", flat=True))
    with_code = set(CodeSubmission.objects.filter(challenge=challenge).values_list("team_id", flat=True))
    standings = []
    for team in Team.objects.filter(challenge=challenge):
        submission = counted_submission(team=team, settings=settings, closes_at=closes_at)
        if submission is None:
            continue
        s = Standing(
            team=team,
            submission=submission,
            has_factsheet=team.pk in with_sheet,
            has_code=team.pk in with_code,
        )
        if not s.has_factsheet:
            s.notes.append("unranked: no fact sheet")
        if not s.has_code:
            s.notes.append("unranked: no code")
        if submission.score is None:
            s.notes.append(f"no score: {submission.score_error or 'not computed'}")
        standings.append(s)
    rankable = [s for s in standings if not s.notes]
    rankable.sort(key=lambda s: (-s.submission.score, s.submission.created_at))
    for i, s in enumerate(rankable, start=1):
        s.rank = i
    rest = sorted(
        (s for s in standings if s.notes),
        key=lambda s: (s.submission.score is None, -(s.submission.score or 0), s.team.name.lower()),
    )
    ordered = rankable + rest
    _attach_runtime_inputs(ordered)
    return Leaderboard(
        challenge=challenge,
        columns=leaderboard_columns(challenge, [s.submission for s in ordered]),
        standings=ordered,
        fidelity=challenge.primary_metric,
    )


def standing_for_team(board: Leaderboard, team: Team | None) -> Standing | None:
    if team is None:
        return None
    return next((s for s in board.standings if s.team.pk == team.pk), None)


def paper_submission_url(*, challenge: Challenge, team: Team) -> str | None:
    """The paper side's submission page, pre-filled with the challenge and team (None when the paper
    side offers no such page)."""
    for name in (
        "conference:paper-submit",
        "conference:paper_submit",
        "conference:paper-new",
        "conference:submit-paper",
        "conference:paper-create",
    ):
        try:
            url = reverse(name, kwargs={"workshop": challenge.workshop.slug})
        except NoReverseMatch:
            continue
        return f"{url}?{urlencode({'kind': 'challenge', 'challenge': challenge.pk, 'team': team.name})}"
    return None


# --- Export ----------------------------------------------------------------------------------------
def _export_name(challenge: Challenge) -> str:
    return f"{challenge.workshop.slug}-{challenge.slug}-final"


def results_title(challenge: Challenge) -> str:
    return f"{challenge.workshop.short_name} {challenge.title}: final results"


def results_export(*, challenge: Challenge, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) for fmt in csv, tex, pdf, svg, zip."""
    board = final_leaderboard(challenge=challenge)
    rows, columns = board.rows(), board.columns
    name = _export_name(challenge)
    title = results_title(challenge)
    settings = final_settings_for(challenge=challenge)
    subtitle = (
        f"Score = {settings.score_formula}"
        + (
            f" with {', '.join(f'{k} = {v:g}' for k, v in settings.constants.items())}"
            if settings.constants
            else ""
        )
        + ". Teams without fact sheet and code are listed unranked."
    )
    if fmt == "csv":
        return (
            export.results_csv(columns=columns, rows=rows).encode(),
            "text/csv; charset=utf-8",
            f"{name}.csv",
        )
    if fmt == "tex":
        return (
            export.results_latex(
                title=title, columns=columns, rows=rows, label=f"tab:{challenge.slug}"
            ).encode(),
            "application/x-tex; charset=utf-8",
            f"{name}.tex",
        )
    plots = board.plots()
    if fmt == "svg":
        svg = plots[0][1] if plots else plot_svg([], title=title, fidelity_label="fidelity")
        return svg.encode(), "image/svg+xml", f"{name}-plot.svg"
    table_pdf = export.results_pdf(
        title=title, subtitle=subtitle, columns=columns, rows=rows, plots=[svg for _, svg in plots]
    )
    if fmt == "pdf":
        return table_pdf, "application/pdf", f"{name}.pdf"
    if fmt == "zip":
        sheets = factsheets_merged_pdf(challenge=challenge)
        return (
            export.export_zip(
                name=name,
                csv_text=export.results_csv(columns=columns, rows=rows),
                latex=export.results_latex(
                    title=title, columns=columns, rows=rows, label=f"tab:{challenge.slug}"
                ),
                table_pdf=table_pdf,
                plots=plots,
                factsheets_pdf=sheets,
            ),
            "application/zip",
            f"{name}.zip",
        )
    raise ValueError(f"unknown export format {fmt!r}")


def factsheet_results(sheet: FactSheet, board: Leaderboard | None = None) -> list[tuple[str, str]]:
    board = board or final_leaderboard(challenge=sheet.challenge)
    standing = standing_for_team(board, sheet.team)
    if standing is None:
        return []
    rows = [("Rank", str(standing.rank) if standing.rank else "unranked")]
    q = standing.submission.quantities()
    rows += [(c.label, export.format_value(q.get(c.key), c.precision)) for c in board.columns]
    rows.append(("Score", export.format_score(standing.submission.score)))
    return rows


def factsheet_pdf_bytes(*, sheet: FactSheet, board: Leaderboard | None = None) -> bytes:
    """The rendered fact sheet, followed by the team's own PDF when it uploaded one."""
    challenge = sheet.challenge
    rendered = export.factsheet_pdf(
        sheet=sheet,
        challenge_title=challenge.title,
        workshop_name=challenge.workshop.short_name,
        results=factsheet_results(sheet, board) if board else None,
    )
    if sheet.attachment and sheet.attachment_name.lower().endswith(".pdf"):
        with sheet.attachment.open("rb") as fh:
            return export.pdfs_merge(
                [(sheet.team_name, rendered), (f"{sheet.team_name} (uploaded)", fh.read())]
            )
    return rendered


def factsheets_merged_pdf(*, challenge: Challenge) -> bytes | None:
    """All fact sheets of the challenge in one PDF, in leaderboard order (then the others by name)."""
    sheets = list(FactSheet.objects.filter(challenge=challenge).select_related("team", "challenge__workshop"))
    if not sheets:
        return None
    board = final_leaderboard(challenge=challenge)
    order = {s.team.pk: i for i, s in enumerate(board.standings)}
    sheets.sort(key=lambda s: (order.get(s.team_id, len(order)), s.team_name.lower()))
    return export.pdfs_merge([(s.team_name, factsheet_pdf_bytes(sheet=s, board=board)) for s in sheets])


@dataclass
class ReleaseSummary:
    """What releasing the final results now would show participants, for the confirmation page."""

    ranked: int
    unranked: list[Standing]
    teams_without_result: int
    measuring: int
    phase_closes_at: object  # datetime | None
    warnings: list[str]


def release_summary(*, challenge: Challenge, now=None) -> ReleaseSummary:
    now = now or timezone.now()
    board = final_leaderboard(challenge=challenge)
    counted = {s.team.pk for s in board.standings}
    teams_without = Team.objects.filter(challenge=challenge).exclude(pk__in=counted).count()
    measuring = ModelSubmission.objects.filter(
        challenge=challenge, status=ModelSubmission.Status.RUNNING
    ).count()
    closes_at = timeline.phase_closes_at(timeline_for(challenge), timeline.Phase.FINAL)
    unranked = [s for s in board.standings if not s.ranked]
    warnings = []
    if closes_at is not None and closes_at > now:
        warnings.append("The final phase is still open: teams can still submit after the results are shown.")
    if measuring:
        warnings.append(
            f"{measuring} submission(s) are still being measured: standings may change after release."
        )
    if unranked:
        warnings.append(
            f"{len(unranked)} team(s) will be listed unranked (missing fact sheet, code or score)."
        )
    if teams_without:
        warnings.append(f"{teams_without} team(s) have no valid final submission and will not be listed.")
    return ReleaseSummary(
        ranked=sum(1 for s in board.standings if s.ranked),
        unranked=unranked,
        teams_without_result=teams_without,
        measuring=measuring,
        phase_closes_at=closes_at,
        warnings=warnings,
    )
