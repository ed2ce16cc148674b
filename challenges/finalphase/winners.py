"""The winners of a challenge as other apps may show them (the workshop programme's challenge
session): the top of the final leaderboard, only for a viewer the final phase's own visibility rule
lets see that leaderboard. Reached through `FinalPhaseConfig.challenge_winners`, so `conference`
never imports `challenges`."""

from __future__ import annotations

from .selectors import final_leaderboard, leaderboard_visible_to


def challenge_winners(*, challenge, user, limit: int) -> list[tuple[int, str]] | None:
    """[(rank, team name)] of the first `limit` ranked teams, or None when `user` may not see the
    leaderboard yet (organisers at once, others once the results are released)."""
    if not leaderboard_visible_to(user, challenge):
        return None
    board = final_leaderboard(challenge=challenge)
    return [(s.rank, s.team.name) for s in board.standings if s.ranked][:limit]
