"""The one place that derives what is open from a challenge's milestones and the clock.

Everything here is a pure function of a `Timeline` (milestone kind → aware datetime, plus the grace
after closing milestones) and `now`, so a chair moving a date changes behaviour everywhere at once and
every gate can be tested at its edge. Intervals are half-open: a gate opens *at* its milestone
(`now >= at`) and closes *at* its closing milestone plus grace (`now < at + grace`). A milestone that
is not set never happens: what it would open stays closed, what it would close stays open.

Phases, in order (MAI's CodaLab practice):
- registration: from "website online" until the final deadline;
- data: training and validation inputs from "train/validation data released", test inputs from
  "final test data released"; ground truth is never downloadable by participants;
- validation phase: submissions from "validation server online" until "final test data released"
  (plus grace, during which the final phase is already open);
- final phase: submissions from "final test data released" until "final deadline";
- fact sheets and code: from "final test data released" until "fact sheets deadline";
- leaderboards: the validation one is public once the validation server is online; the final one once
  "preliminary results released"; organisers always see both.
"""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

K_WEBSITE = "website_online"
K_TRAIN_DATA = "train_data"
K_VALIDATION = "validation_server"
K_TEST_DATA = "test_data"
K_FINAL_DEADLINE = "final_deadline"
K_FACTSHEET_DEADLINE = "factsheet_deadline"
K_PRELIMINARY = "preliminary_results"
K_PAPERS = "challenge_papers"


class Phase(StrEnum):
    VALIDATION = "validation"
    FINAL = "final"


class Split(StrEnum):
    """Mirrors `DataFile.Split` without importing models (this module is pure)."""

    TRAIN = "train"
    VALIDATION_INPUT = "validation_input"
    VALIDATION_GT = "validation_gt"
    TEST_INPUT = "test_input"
    TEST_GT = "test_gt"


GROUND_TRUTH_SPLITS = frozenset({Split.VALIDATION_GT, Split.TEST_GT})


@dataclass(frozen=True)
class Timeline:
    milestones: dict[str, dt.datetime] = field(default_factory=dict)
    grace: dt.timedelta = dt.timedelta(0)

    def at(self, kind: str) -> dt.datetime | None:
        return self.milestones.get(kind)


def _reached(tl: Timeline, kind: str, now: dt.datetime) -> bool:
    at = tl.at(kind)
    return at is not None and now >= at


def _before_close(tl: Timeline, kind: str, now: dt.datetime) -> bool:
    at = tl.at(kind)
    return at is None or now < at + tl.grace


def registration_open(tl: Timeline, now: dt.datetime) -> bool:
    return _reached(tl, K_WEBSITE, now) and _before_close(tl, K_FINAL_DEADLINE, now)


def teams_editable(tl: Timeline, now: dt.datetime) -> bool:
    """Teams may form and change until the final deadline (then the final ranking is theirs)."""
    return registration_open(tl, now)


def phase_open(tl: Timeline, now: dt.datetime) -> Phase | None:
    """The phase that accepts submissions now, or None. During the validation phase's grace after
    "final test data released" the final phase is the open one (and validation still accepts)."""
    if accepts_submissions(tl, Phase.FINAL, now):
        return Phase.FINAL
    if accepts_submissions(tl, Phase.VALIDATION, now):
        return Phase.VALIDATION
    return None


def accepts_submissions(tl: Timeline, phase: Phase | str, now: dt.datetime) -> bool:
    """Whether `phase` accepts a submission that arrived at `now`: from its opening milestone until its
    closing milestone plus grace (the grace applies to every closing milestone)."""
    if Phase(phase) == Phase.VALIDATION:
        return _reached(tl, K_VALIDATION, now) and _before_close(tl, K_TEST_DATA, now)
    return _reached(tl, K_TEST_DATA, now) and _before_close(tl, K_FINAL_DEADLINE, now)


def phase_deadline(tl: Timeline, phase: Phase | str) -> dt.datetime | None:
    """The published closing milestone of the phase (without grace), or None."""
    return tl.at(K_TEST_DATA if Phase(phase) == Phase.VALIDATION else K_FINAL_DEADLINE)


def phase_closes_at(tl: Timeline, phase: Phase | str) -> dt.datetime | None:
    """The instant the phase stops accepting submissions: its closing milestone plus grace."""
    at = phase_deadline(tl, phase)
    return at + tl.grace if at else None


def ago(delta: dt.timedelta) -> str:
    """How long ago, in words a participant reads at a glance: "1 second ago", "3 minutes ago",
    "2 hours 5 minutes ago", "4 days ago" (rounded down to the largest one or two units)."""
    seconds = max(0, int(delta.total_seconds()))
    units = [("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]
    parts = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append((name, count))
    parts = [(name, count) for name, count in parts[:2] if count]
    if not parts:
        return "just now"
    if parts[0][0] == "day":
        parts = parts[:1]
    return " ".join(f"{count} {name}{'' if count == 1 else 's'}" for name, count in parts) + " ago"


def downloadable_splits(tl: Timeline, now: dt.datetime, *, is_organiser: bool = False) -> set[Split]:
    """The data splits a registered (approved) participant may download now; organisers get all."""
    if is_organiser:
        return set(Split)
    splits: set[Split] = set()
    if _reached(tl, K_TRAIN_DATA, now):
        splits |= {Split.TRAIN, Split.VALIDATION_INPUT}
    if _reached(tl, K_TEST_DATA, now):
        splits.add(Split.TEST_INPUT)
    return splits


def split_released_at(tl: Timeline, split: Split | str) -> dt.datetime | None:
    split = Split(split)
    if split in GROUND_TRUTH_SPLITS:
        return None
    return tl.at(K_TEST_DATA if split == Split.TEST_INPUT else K_TRAIN_DATA)


def factsheets_open(tl: Timeline, now: dt.datetime) -> bool:
    return _reached(tl, K_TEST_DATA, now) and _before_close(tl, K_FACTSHEET_DEADLINE, now)


def leaderboard_visible(
    tl: Timeline, phase: Phase | str, now: dt.datetime, *, is_organiser: bool = False
) -> bool:
    if is_organiser:
        return True
    if Phase(phase) == Phase.VALIDATION:
        return _reached(tl, K_VALIDATION, now)
    return _reached(tl, K_PRELIMINARY, now)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: dt.datetime
    past: bool
    is_next: bool


def entries(tl: Timeline, now: dt.datetime) -> list[TimelineEntry]:
    """Milestones in date order, each marked past or not, the first future one marked next."""
    ordered = sorted(tl.milestones.items(), key=lambda item: item[1])
    nxt = next_milestone(tl, now)
    return [
        TimelineEntry(kind=k, at=at, past=now >= at, is_next=nxt is not None and k == nxt[0])
        for k, at in ordered
    ]


def next_milestone(tl: Timeline, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    future = [(k, at) for k, at in tl.milestones.items() if at > now]
    return min(future, key=lambda item: item[1]) if future else None
