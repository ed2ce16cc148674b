"""Reads of the challenge side: challenges, who organises or takes part, dates for the workshop pages, a
challenge's timeline, teams and invitations, data files, submissions, limits, leaderboards. Selectors
never write; `rules.py` builds its predicates on them (rules → selectors, never the reverse)."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from conference.rules import is_chair
from conference.selectors import DatedEvent
from conference.templatetags.workshop_time import format_in_zone

from . import leaderboard, leaderboard_cache, timeline
from .models import (
    Challenge,
    DataFile,
    Milestone,
    Registration,
    Submission,
    Team,
    TeamInvitation,
    TeamMembership,
)


def challenge_get(*, workshop, slug: str) -> Challenge | None:
    """The workshop's challenge with this slug (its workshop loaded), or None."""
    return Challenge.objects.select_related("workshop").filter(workshop=workshop, slug=slug).first()


def challenge_get_by_slugs(*, workshop_slug: str, slug: str) -> Challenge | None:
    """The challenge from the URL's slugs alone (the upload guard's size limit, before any permission)."""
    return Challenge.objects.filter(workshop__slug=workshop_slug, slug=slug).first()


def challenge_list(*, workshop) -> list[Challenge]:
    return list(workshop.challenges.all())


def user_organises(*, user, challenge: Challenge | None) -> bool:
    """Superusers, the workshop's chairs and the challenge's organisers."""
    if not user or not user.is_authenticated or challenge is None:
        return False
    if user.is_superuser or is_chair(user, challenge.workshop):
        return True
    return challenge.organisers.filter(pk=user.pk).exists()


def user_is_approved_participant(*, user, challenge: Challenge | None) -> bool:
    if not user or not user.is_authenticated or challenge is None:
        return False
    return Registration.objects.filter(challenge=challenge, user=user, approved=True).exists()


def user_in_team(*, user, team_id: int | None) -> bool:
    if not user or not user.is_authenticated or team_id is None:
        return False
    return TeamMembership.objects.filter(team_id=team_id, user=user).exists()


def team_members(*, team: Team) -> list[TeamMembership]:
    return list(team.memberships.select_related("user__profile"))


def team_invitations_open(*, team: Team) -> list[TeamInvitation]:
    """Invitations not accepted yet."""
    return list(team.invitations.filter(accepted_at__isnull=True))


def team_invitation_get(*, challenge: Challenge, token: str) -> TeamInvitation | None:
    return (
        TeamInvitation.objects.select_related("team").filter(token=token, team__challenge=challenge).first()
    )


def ground_truth_for(*, challenge: Challenge, split: str = DataFile.Split.VALIDATION_GT) -> DataFile | None:
    """The latest uploaded ground truth of the split (validation by default), or None."""
    return (
        DataFile.objects.filter(challenge=challenge, split=split)
        .exclude(file="")
        .order_by("-uploaded_at", "-pk")
        .first()
    )


def data_file_get(*, challenge: Challenge, pk: int) -> DataFile | None:
    return DataFile.objects.filter(challenge=challenge, pk=pk).first()


def submission_get(*, challenge: Challenge, public_id) -> Submission | None:
    """The challenge's validation submission with this public id (team and workshop loaded), or None."""
    return (
        Submission.objects.select_related("team", "challenge__workshop")
        .filter(challenge=challenge, public_id=public_id)
        .first()
    )


def submissions_recent(*, challenge: Challenge, limit: int = 50) -> list[Submission]:
    """The challenge's latest submissions, every team's (organisers)."""
    return list(challenge.submissions.select_related("team")[:limit])


def registration_list(*, challenge: Challenge) -> list[Registration]:
    """Registrations awaiting approval first, then by date (organisers)."""
    return list(challenge.registrations.select_related("user__profile").order_by("approved", "created_at"))


def registration_get(*, challenge: Challenge, pk: int) -> Registration | None:
    return Registration.objects.filter(challenge=challenge, pk=pk).select_related("user").first()


def challenge_dates_for_workshop(*, workshop) -> list[DatedEvent]:
    """Challenge milestones for the dates page. Tracks that share a milestone's date are listed once
    under "Challenges", as MAI's own page does; a track with its own date is listed by name."""
    # The challenge-paper deadline is the paper side's own date (conference lists it), not repeated here.
    milestones = list(
        Milestone.objects.filter(challenge__workshop=workshop)
        .exclude(kind=Milestone.Kind.CHALLENGE_PAPERS)
        .select_related("challenge")
    )
    n_challenges = len({m.challenge_id for m in milestones})
    by_key: dict[tuple[str, object], list[Milestone]] = {}
    for m in milestones:
        by_key.setdefault((m.kind, m.at), []).append(m)
    events = []
    for (kind, at), group in by_key.items():
        label = Milestone.Kind(kind).label
        if len(group) == n_challenges:
            events.append(
                DatedEvent(
                    title=label, at=at, category="Challenges", uid=f"challenges-{kind}@{workshop.slug}"
                )
            )
        else:
            for m in group:
                events.append(
                    DatedEvent(
                        title=label,
                        at=at,
                        category=f"Challenge: {m.challenge.title}",
                        uid=f"milestone-{m.pk}@{workshop.slug}",
                    )
                )
    return events


def timeline_for(challenge: Challenge) -> timeline.Timeline:
    """The challenge's milestones as a pure `timeline.Timeline` (one query)."""
    return timeline.Timeline(
        milestones={m.kind: m.at for m in Milestone.objects.filter(challenge=challenge)},
        grace=dt.timedelta(minutes=challenge.grace_minutes),
    )


def _in_zone(value: dt.datetime, workshop) -> str:
    return format_in_zone(value, getattr(workshop, "time_zone", None) or "UTC")


def deadline_passed_message(
    *, what: str, deadline: dt.datetime, now: dt.datetime, workshop, verb: str = "closed"
) -> str:
    """ "The validation phase closed at Mon 15 March 2021, 5pm Pacific Time (PDT), 3 minutes ago." —
    the published deadline in the workshop's zone and how long before `now` (the arrival) it was."""
    return f"{what} {verb} at {_in_zone(deadline, workshop)}, {timeline.ago(now - deadline)}."


PHASE_NAMES = {timeline.Phase.VALIDATION: "The validation phase", timeline.Phase.FINAL: "The final phase"}


def phase_refusal(
    *, challenge: Challenge, tl: timeline.Timeline, phase: timeline.Phase | str, now: dt.datetime
) -> str:
    """Why `phase` refuses a submission that arrived at `now`: not open yet (and when it opens), or
    closed (when, in the workshop's zone, and how long ago)."""
    phase = timeline.Phase(phase)
    what = PHASE_NAMES[phase]
    opens = tl.at(timeline.K_VALIDATION if phase == timeline.Phase.VALIDATION else timeline.K_TEST_DATA)
    if opens is None:
        return f"{what} has no opening date yet: submissions are not accepted now."
    if now < opens:
        return f"{what} is not open yet: it opens at {_in_zone(opens, challenge.workshop)}."
    deadline = timeline.phase_deadline(tl, phase)
    if deadline is None:  # pragma: no cover - open phases without a deadline accept submissions
        return f"{what} does not accept submissions now."
    return deadline_passed_message(what=what, deadline=deadline, now=now, workshop=challenge.workshop)


def registration_for(user, challenge: Challenge) -> Registration | None:
    if not user or not user.is_authenticated:
        return None
    return Registration.objects.filter(challenge=challenge, user=user).first()


def team_for(user, challenge: Challenge) -> Team | None:
    """The user's team in this challenge, or None."""
    if not user or not user.is_authenticated:
        return None
    membership = TeamMembership.objects.filter(challenge=challenge, user=user).select_related("team").first()
    return membership.team if membership else None


@dataclass(frozen=True)
class Limits:
    per_day: int
    total: int
    used_today: int
    used_total: int

    @property
    def left_today(self) -> int:
        return max(0, min(self.per_day - self.used_today, self.total - self.used_total))

    @property
    def left_total(self) -> int:
        return max(0, self.total - self.used_total)

    def __str__(self) -> str:
        return f"{self.left_today} of {self.per_day} left today, {self.left_total} of {self.total} in total"


def submission_limits(*, team: Team, challenge: Challenge, now: dt.datetime | None = None) -> Limits:
    """What the team has used; failed scorings do not count. A day is a UTC calendar day."""
    now = now or timezone.now()
    counted = Submission.objects.filter(team=team, challenge=challenge).exclude(
        status=Submission.Status.FAILED
    )
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Limits(
        per_day=challenge.submissions_per_day,
        total=challenge.submissions_total,
        used_today=counted.filter(created_at__gte=start, created_at__lt=start + dt.timedelta(days=1)).count(),
        used_total=counted.count(),
    )


def submissions_for_team(*, team: Team) -> list[Submission]:
    return list(Submission.objects.filter(team=team).select_related("submitted_by"))


LEADERBOARD_PAGE_SIZE = 100


def _rank_validation(challenge: Challenge) -> list[leaderboard.Entry]:
    # Only the columns the board shows (no file, description, per-file rows or error text).
    rows = (
        Submission.objects.filter(challenge=challenge, status=Submission.Status.DONE)
        .order_by()
        .values_list("pk", "team_id", "team__name", "scores", "created_at", "method_name")
    )
    entries = [
        leaderboard.Entry(
            team=team_name,
            team_id=team_id,
            scores=scores,
            submitted_at=created_at,
            submission_id=pk,
            method=method,
        )
        for pk, team_id, team_name, scores, created_at, method in rows
    ]
    return leaderboard.rank(entries, challenge.metrics, challenge.leaderboard_policy)


def leaderboard_validation(*, challenge: Challenge, version: str | None = None) -> list[leaderboard.Entry]:
    """The validation leaderboard: scored submissions, one per team by the challenge's policy, ranked.
    Cached under the challenge's leaderboard version (`leaderboard_cache`), so one query per change."""
    return leaderboard_cache.get_or_build(
        challenge.pk, "validation-rows", lambda: _rank_validation(challenge), ver=version
    )


@dataclass(frozen=True)
class LeaderboardPage:
    rows: list[leaderboard.Entry]
    number: int
    num_pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def first_rank(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_rank(self) -> int:
        return self.first_rank + len(self.rows) - 1 if self.rows else 0


def page_number(raw, num_pages: int) -> int:
    """A page number from the query string, clamped to the pages there are (1 for nonsense)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), max(num_pages, 1))


def leaderboard_validation_page(
    *, challenge: Challenge, page=1, per_page: int = LEADERBOARD_PAGE_SIZE, version: str | None = None
) -> LeaderboardPage:
    """One page of the ranked validation leaderboard (`page` is clamped to the pages there are)."""
    rows = leaderboard_validation(challenge=challenge, version=version)
    num_pages = max(1, -(-len(rows) // per_page))
    number = page_number(page, num_pages)
    start = (number - 1) * per_page
    return LeaderboardPage(
        rows=rows[start : start + per_page],
        number=number,
        num_pages=num_pages,
        total=len(rows),
        per_page=per_page,
    )


def leaderboard_team_position(
    *, challenge: Challenge, team_id: int, per_page: int = LEADERBOARD_PAGE_SIZE, version: str | None = None
) -> tuple[int, int] | None:
    """(rank, page) of the team on the validation leaderboard, or None when it has no scored entry."""
    for entry in leaderboard_validation(challenge=challenge, version=version):
        if entry.team_id == team_id:
            return entry.rank, (entry.rank - 1) // per_page + 1
    return None


def leaderboard_visible(
    *, challenge: Challenge, user, phase: str = "validation", now: dt.datetime | None = None
) -> bool:
    return timeline.leaderboard_visible(
        timeline_for(challenge),
        phase,
        now or timezone.now(),
        is_organiser=user_organises(user=user, challenge=challenge),
    )


def data_files_for(*, challenge: Challenge, user, now: dt.datetime | None = None) -> list[dict]:
    """Data files with whether this user may download each now and, if not yet, when."""
    now = now or timezone.now()
    tl = timeline_for(challenge)
    organiser = user_organises(user=user, challenge=challenge)
    participant = user_is_approved_participant(user=user, challenge=challenge)
    allowed = timeline.downloadable_splits(tl, now, is_organiser=organiser)
    order = {split: i for i, split in enumerate(DataFile.Split.values)}
    rows = []
    for f in sorted(DataFile.objects.filter(challenge=challenge), key=lambda f: (order[f.split], f.title)):
        if f.is_ground_truth and not organiser:
            continue
        rows.append(
            {
                "file": f,
                "downloadable": (organiser or participant) and f.split in allowed,
                "released_at": timeline.split_released_at(tl, f.split),
            }
        )
    return rows
