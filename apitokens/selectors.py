"""Reads of API tokens."""

from django.db.models import QuerySet

from .models import ApiToken


def api_token_list_for_user(*, user) -> QuerySet[ApiToken]:
    """A person's tokens, active first, newest first."""
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def api_token_get_for_user(*, user, pk) -> ApiToken | None:
    return ApiToken.objects.filter(user=user, pk=pk).first()
