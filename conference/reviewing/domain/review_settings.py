"""The edition's review settings row: stored on first change (`selectors.review_settings_get` reads
without storing)."""

from __future__ import annotations

from django.db import transaction

from conference.models import Workshop

from ..models import ReviewSettings


def review_settings_ensure(*, workshop: Workshop) -> ReviewSettings:
    """The stored settings of the edition, created with the defaults when there are none yet."""
    config, _ = ReviewSettings.objects.get_or_create(workshop=workshop)
    return config


@transaction.atomic
def review_settings_update(*, config: ReviewSettings, fields: dict) -> ReviewSettings:
    """Saves the chair's settings form (`fields`: its cleaned data)."""
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config
