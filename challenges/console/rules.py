"""Who may add a track to an edition: its chairs (and superusers) and the organisers of any of its
tracks. Everything else an organiser does on a track is `challenges.manage_challenge` (the track's
organisers and the edition's chairs)."""

import rules

from conference.rules import is_chair

from .selectors import user_organises_in_workshop


@rules.predicate
def organises_a_track_of(user, workshop) -> bool:
    return user_organises_in_workshop(user=user, workshop=workshop)


rules.set_perm("challenges.add_challenge", is_chair | organises_a_track_of)
