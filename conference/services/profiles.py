"""A person's profile: made at sign-up (name, affiliation), made on first visit for accounts that have
none, and edited on the profile page. Everything in it feeds conflict-of-interest detection."""

from django.db import transaction

from ..models import Profile


def profile_save_signup(*, user, full_name: str, affiliation: str = "") -> Profile:
    """The sign-up form's extra fields: the profile, and the account's first name (Django's own)."""
    with transaction.atomic():
        profile, _ = Profile.objects.update_or_create(
            user=user, defaults={"full_name": full_name, "affiliation": affiliation}
        )
        user.first_name = full_name[:150]
        user.save(update_fields=["first_name"])
    return profile


def profile_get_or_create(*, user) -> Profile:
    """The account's profile, made from the account's name (or address) when it has none yet."""
    profile, _ = Profile.objects.get_or_create(
        user=user, defaults={"full_name": user.get_full_name() or user.email}
    )
    return profile


PROFILE_FIELDS = ("full_name", "affiliation", "country", "other_emails", "institution_domains")


def profile_update(*, profile: Profile, **fields) -> Profile:
    """Saves the given profile fields (those of `PROFILE_FIELDS`; others are refused)."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.save(update_fields=list(fields))
    return profile
