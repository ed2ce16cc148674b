"""Who may see the final-phase numbers when: pure functions of a challenge's `timeline.Timeline`, the
organisers' settings and the clock (no database), so every rule can be tested at its edge.

- Organisers see the final leaderboard at once.
- Participants (registered to the challenge or in one of its teams) see it from the "preliminary test
  results released" milestone on (`challenges.timeline.leaderboard_visible`).
- Anyone sees it once the workshop is over, if the organisers chose to publish it.
- A team sees its own submissions' numbers when the leaderboard is visible to it, or earlier when the
  organisers allow it; before that, only each measurement's progress and failures.

Intervals are half-open like the timeline's: visible *at* the milestone (`now >= at`)."""

import datetime as dt
import zoneinfo
from enum import StrEnum

from challenges import timeline


class Viewer(StrEnum):
    ORGANISER = "organiser"
    PARTICIPANT = "participant"
    PUBLIC = "public"


def workshop_over_at(end_date: dt.date, time_zone: str) -> dt.datetime:
    """The instant the workshop is over: midnight after its last day, in its own time zone."""
    zone = zoneinfo.ZoneInfo(time_zone)
    return dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)


def leaderboard_visible(
    tl: timeline.Timeline,
    now: dt.datetime,
    *,
    viewer: Viewer,
    public_after_workshop: bool,
    over_at: dt.datetime | None,
) -> bool:
    if viewer == Viewer.ORGANISER:
        return True
    if public_after_workshop and over_at is not None and now >= over_at:
        return True
    if viewer == Viewer.PARTICIPANT:
        return timeline.leaderboard_visible(tl, timeline.Phase.FINAL, now)
    return False


def own_results_visible(
    tl: timeline.Timeline, now: dt.datetime, *, viewer: Viewer, show_own_results_early: bool
) -> bool:
    """Whether a team member sees the numbers (metrics, runtime, score) of the team's own submissions."""
    if viewer == Viewer.ORGANISER or show_own_results_early:
        return True
    return timeline.leaderboard_visible(tl, timeline.Phase.FINAL, now)


def results_released_at(tl: timeline.Timeline) -> dt.datetime | None:
    return tl.at(timeline.K_PRELIMINARY)
