"""The order of a track's milestones and what is open at a given instant, for the milestone editor.

Pure functions over `challenges.timeline` (no database): `MILESTONE_ORDER` is the timeline's sequence of
milestones (website → … → challenge papers); `order_errors` says, per milestone, why a set of dates
breaks it (a later milestone may share its predecessor's instant, except where a phase would last no
time at all); `open_now` lists what the timeline opens at `now`, in words.
"""

import datetime as dt
from collections.abc import Callable

from .. import timeline

MILESTONE_ORDER = [
    timeline.K_WEBSITE,
    timeline.K_TRAIN_DATA,
    timeline.K_VALIDATION,
    timeline.K_TEST_DATA,
    timeline.K_FINAL_DEADLINE,
    timeline.K_FACTSHEET_DEADLINE,
    timeline.K_PRELIMINARY,
    timeline.K_PAPERS,
]

# (earlier, later) pairs whose interval is a phase: the later one must come strictly after.
STRICTLY_AFTER = {
    (timeline.K_VALIDATION, timeline.K_TEST_DATA): "the validation phase would last no time",
    (timeline.K_TEST_DATA, timeline.K_FINAL_DEADLINE): "the final phase would last no time",
}


def order_errors(
    milestones: dict[str, dt.datetime], *, label: Callable[[str], str], show: Callable[[dt.datetime], str]
) -> dict[str, str]:
    """{milestone kind: message} for every milestone that comes before the nearest earlier milestone
    that is set (unset milestones are skipped). `label(kind)` names a milestone, `show(at)` a date."""
    errors: dict[str, str] = {}
    previous: str | None = None
    for kind in MILESTONE_ORDER:
        at = milestones.get(kind)
        if at is None:
            continue
        if previous is not None:
            before = milestones[previous]
            why = STRICTLY_AFTER.get((previous, kind))
            if at < before or (why and at == before):
                relation = "after" if why else "at or after"
                reason = f" ({why})" if why and at == before else ""
                errors[kind] = (
                    f"“{label(kind)}” ({show(at)}) must come {relation} “{label(previous)}” "
                    f"({show(before)}){reason}."
                )
        previous = kind
    return errors


def open_now(tl: timeline.Timeline, now: dt.datetime) -> list[str]:
    """What participants can do at `now`, one sentence each, in the timeline's order."""
    lines = []
    if timeline.registration_open(tl, now):
        lines.append("Registration and teams are open.")
    splits = timeline.downloadable_splits(tl, now)
    if splits:
        names = {
            timeline.Split.TRAIN: "training data",
            timeline.Split.VALIDATION_INPUT: "validation inputs",
            timeline.Split.TEST_INPUT: "test inputs",
        }
        listed = ", ".join(names[s] for s in names if s in splits)
        lines.append(f"Approved participants may download the {listed}.")
    phase = timeline.phase_open(tl, now)
    if phase == timeline.Phase.FINAL:
        lines.append("The final phase accepts models.")
    if timeline.accepts_submissions(tl, timeline.Phase.VALIDATION, now):
        lines.append("The validation phase accepts results.")
    if timeline.factsheets_open(tl, now):
        lines.append("Fact sheets and code are accepted.")
    if timeline.leaderboard_visible(tl, timeline.Phase.VALIDATION, now):
        lines.append("The validation leaderboard is public.")
    if timeline.leaderboard_visible(tl, timeline.Phase.FINAL, now):
        lines.append("The final results are released to participants.")
    return lines or ["Nothing is open to participants."]
