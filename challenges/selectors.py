"""Reads of the challenge side: dates for the workshop pages, a challenge's timeline, teams, limits,
leaderboards."""

import datetime as dt

from django.utils import timezone

from conference.selectors import DatedEvent

from . import timeline
from .models import Challenge, Milestone, Registration, Team, TeamMembership


def challenge_dates_for_workshop(*, workshop) -> list[DatedEvent]:
    """Challenge milestones for the dates page. Tracks that share a milestone's date are listed once
    under "Challenges", as MAI's own page does; a track with its own date is listed by name."""
    # The challenge-paper deadline is the paper side's own date (conference lists it), not repeated here.
    milestones = list(Milestone.objects.filter(challenge__workshop=workshop)
                      .exclude(kind=Milestone.Kind.CHALLENGE_PAPERS).select_related("challenge"))
    n_challenges = len({m.challenge_id for m in milestones})
    by_key: dict[tuple[str, object], list[Milestone]] = {}
    for m in milestones:
        by_key.setdefault((m.kind, m.at), []).append(m)
    events = []
    for (kind, at), group in by_key.items():
        label = Milestone.Kind(kind).label
        if len(group) == n_challenges:
            events.append(DatedEvent(title=label, at=at, category="Challenges",
                                     uid=f"challenges-{kind}@{workshop.slug}"))
        else:
            for m in group:
                events.append(DatedEvent(title=label, at=at, category=f"Challenge: {m.challenge.title}",
                                         uid=f"milestone-{m.pk}@{workshop.slug}"))
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
    membership = (TeamMembership.objects.filter(challenge=challenge, user=user)
                  .select_related("team").first())
    return membership.team if membership else None


def now() -> dt.datetime:
    return timezone.now()
