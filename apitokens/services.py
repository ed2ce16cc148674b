"""Writes of API tokens. A token's secret is `mai_<key_id>_<random>`: 16 hex characters of id and 43
URL-safe characters (256 bits) of secret; only the SHA-256 of the whole secret is stored. A token is
active → revoked (by its owner; never back). `api_token_authenticate` finds the row by its id and
compares digests in constant time, and records the last use (at most one write a minute per token).
"""

import datetime as dt
import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url

from .models import ApiToken

PREFIX = "mai_"
MAX_ACTIVE_TOKENS = 20
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenRefused(Exception):
    """A presented secret that authenticates nobody; `code` says why (`invalid` or `revoked`)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(secret: str) -> str | None:
    """The key id of a well-formed secret, else None."""
    if not secret.startswith(PREFIX):
        return None
    key_id, sep, rest = secret[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not rest:
        return None
    return key_id


def api_token_create(*, user, name: str, scope: str) -> tuple[ApiToken, str]:
    """Creates a token; returns it with its secret, which is shown once and never again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the laptop or script that uses it."})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": "Choose read, or read and submit."})
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(f"You have {MAX_ACTIVE_TOKENS} active tokens: revoke one first.")
    for _ in range(5):
        key_id = secrets.token_hex(8)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name[:100], scope=scope, key_id=key_id, digest=_digest(secret)
                )
        except IntegrityError:  # a key id drawn twice: draw again
            continue
        return token, secret
    raise RuntimeError("Could not draw a unique token id.")


def api_token_revoke(*, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revokes the token (idempotent): every later request with it is refused."""
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def _tokens_page() -> str:
    return absolute_url(reverse("apitokens:list"))


def invalid_token_message() -> str:
    return f"Invalid API token: check that it was copied whole, or create a new one at {_tokens_page()}"


def api_token_authenticate(*, secret: str, now: dt.datetime | None = None) -> ApiToken:
    """The active token with this secret, its last use recorded; raises TokenRefused otherwise."""
    key_id = _parse(secret)
    token = (
        ApiToken.objects.select_related("user").filter(key_id=key_id).first() if key_id is not None else None
    )
    # Compared even when no row was found, so timing does not tell which ids exist.
    matches = hmac.compare_digest(token.digest if token else "0" * 64, _digest(secret))
    if token is None or not matches:
        raise TokenRefused(invalid_token_message(), "token_invalid")
    if token.revoked_at is not None:
        raise TokenRefused(
            f"This API token was revoked. Create a new one at {_tokens_page()}", "token_revoked"
        )
    if not token.user.is_active:
        raise TokenRefused("This account is disabled.", "user_inactive")
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
