"""A reviewer's bid on a paper (eager, willing, not willing, in conflict), while bidding is open. A
bid "in conflict" declares a conflict with the paper."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from conference.models import Paper

from .. import selectors
from ..models import Bid, Conflict
from .conflicts import conflict_declare


@transaction.atomic
def bid_set(*, paper: Paper, user, value: str | None) -> Bid | None:
    """Sets (or clears, with an empty value) a reviewer's bid. "conflict" declares a conflict."""
    if not selectors.review_settings_get(workshop=paper.workshop).bidding_open:
        raise ValidationError("Bidding is closed.")
    if value and value not in Bid.Value.values:
        raise ValidationError(f"Unknown bid “{value}”.")
    if not value:
        Bid.objects.filter(paper=paper, user=user).delete()
        return None
    bid, _ = Bid.objects.update_or_create(paper=paper, user=user, defaults={"value": value})
    if value == Bid.Value.CONFLICT:
        conflict_declare(
            paper=paper, user=user, source=Conflict.Source.REVIEWER, evidence="declared while bidding"
        )
    return bid
