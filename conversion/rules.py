"""Permission predicates of conversion (django-rules): a conversion and its files are its owner's (and a
superuser's; the `is_staff` flag alone gives no access to another participant's model); a track's
calibration sets are managed by whoever manages the track."""

import rules

from challenges.rules import is_challenge_organiser


@rules.predicate
def is_conversion_owner(user, conversion) -> bool:
    return bool(conversion is not None and user and user.is_authenticated and conversion.owner_id == user.pk)


rules.add_perm("conversion.convert", rules.is_authenticated)
rules.add_perm("conversion.view_conversion", is_conversion_owner | rules.is_superuser)
rules.add_perm("conversion.use_conversion", is_conversion_owner)
rules.add_perm("conversion.manage_calibration", is_challenge_organiser)
