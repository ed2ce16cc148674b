"""Reads of the challenge side: dates for the workshop pages, a challenge's timeline, teams, limits,
leaderboards."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from conference.selectors import DatedEvent

from . import leaderboard, timeline
from .models import Challenge, DataFile, Milestone, Registration, Submission, Team, TeamMembership


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


def leaderboard_validation(*, challenge: Challenge) -> list[leaderboard.Entry]:
    """The validation leaderboard: scored submissions, one per team by the challenge's policy."""
    entries = [
        leaderboard.Entry(
            team=s.team.name,
            team_id=s.team_id,
            scores=s.scores,
            submitted_at=s.created_at,
            submission_id=s.pk,
            method=s.method_name,
        )
        for s in Submission.objects.filter(challenge=challenge, status=Submission.Status.DONE).select_related(
            "team"
        )
    ]
    return leaderboard.rank(entries, challenge.metrics, challenge.leaderboard_policy)


def leaderboard_visible(
    *, challenge: Challenge, user, phase: str = "validation", now: dt.datetime | None = None
) -> bool:
    from .rules import is_challenge_organiser

    return timeline.leaderboard_visible(
        timeline_for(challenge),
        phase,
        now or timezone.now(),
        is_organiser=is_challenge_organiser(user, challenge),
    )


def data_files_for(*, challenge: Challenge, user, now: dt.datetime | None = None) -> list[dict]:
    """Data files with whether this user may download each now and, if not yet, when."""
    from .rules import is_approved_participant, is_challenge_organiser

    now = now or timezone.now()
    tl = timeline_for(challenge)
    organiser = is_challenge_organiser(user, challenge)
    participant = is_approved_participant(user, challenge)
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
