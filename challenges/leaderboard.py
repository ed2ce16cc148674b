"""Ranking of leaderboard entries, with no database: one entry per team chosen by the policy (best or
latest), ordered by the metrics in the challenge's order, each in its direction, ties broken by the
earlier submission. The final phase reuses `rank` with its own entries."""

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Entry:
    team: str
    team_id: int
    scores: dict[str, float]
    submitted_at: dt.datetime
    submission_id: int | None = None
    method: str = ""
    extra: dict = field(default_factory=dict)
    rank: int = 0


def _key(entry: Entry, metrics: list[dict]):
    parts = []
    for metric in metrics:
        value = entry.scores.get(metric["key"])
        if value is None:
            parts.append((1, 0.0))  # missing values sort last
        else:
            parts.append((0, -value if metric.get("higher_is_better", True) else value))
    return (*parts, entry.submitted_at, entry.submission_id or 0)


def pick(entries: list[Entry], metrics: list[dict], policy: str) -> list[Entry]:
    """One entry per team: its best (by the ranking key) or its latest."""
    chosen: dict[int, Entry] = {}
    for entry in entries:
        current = chosen.get(entry.team_id)
        if current is None:
            chosen[entry.team_id] = entry
        elif policy == "latest":
            if (entry.submitted_at, entry.submission_id or 0) > (
                current.submitted_at,
                current.submission_id or 0,
            ):
                chosen[entry.team_id] = entry
        elif _key(entry, metrics) < _key(current, metrics):
            chosen[entry.team_id] = entry
    return list(chosen.values())


def rank(entries: list[Entry], metrics: list[dict], policy: str = "best") -> list[Entry]:
    ranked = sorted(pick(entries, metrics, policy), key=lambda e: _key(e, metrics))
    for position, entry in enumerate(ranked, start=1):
        entry.rank = position
    return ranked
