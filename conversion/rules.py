"""Permission predicates of conversion (django-rules): a conversion and its files are its owner's (and
staff's); a track's calibration sets are managed by whoever manages the track."""

import rules

from challenges.rules import is_challenge_organiser


@rules.predicate
def is_conversion_owner(user, conversion) -> bool:
    return bool(conversion is not None and user and user.is_authenticated and conversion.owner_id == user.pk)


@rules.predicate
def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


rules.add_perm("conversion.convert", rules.is_authenticated)
rules.add_perm("conversion.view_conversion", is_conversion_owner | is_staff)
rules.add_perm("conversion.use_conversion", is_conversion_owner)
rules.add_perm("conversion.manage_calibration", is_challenge_organiser)
