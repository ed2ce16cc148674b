"""Permission predicates of the final phase (django-rules), used by views and templates.

Objects: a `Challenge` for the leaderboard, exports and settings; a `ModelSubmission`, `FactSheet` or
`CodeSubmission` for a team's own material (organisers and the team's members only)."""

import rules

from challenges.models import TeamMembership
from challenges.rules import is_challenge_organiser

from .selectors import leaderboard_visible_to


@rules.predicate
def is_member_of_objects_team(user, obj) -> bool:
    if not user or not user.is_authenticated or obj is None:
        return False
    return TeamMembership.objects.filter(team_id=obj.team_id, user=user).exists()


@rules.predicate
def can_see_final_leaderboard(user, challenge) -> bool:
    return challenge is not None and leaderboard_visible_to(user, challenge)


rules.add_perm("finalphase.manage", is_challenge_organiser)
rules.add_perm("finalphase.view_leaderboard", can_see_final_leaderboard)
rules.add_perm("finalphase.view_team_material", is_challenge_organiser | is_member_of_objects_team)
