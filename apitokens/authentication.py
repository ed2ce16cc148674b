"""DRF authentication with personal API tokens (`Authorization: Token <secret>` or `Bearer <secret>`),
the scope check for unsafe methods, and the per-token throttle. Device hosts keep their own scheme
(`Authorization: Device <token>`, evaluation/api.py)."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from . import services
from .models import ApiToken

KEYWORDS = ("Token", "Bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a person by one of their API tokens; `request.auth` is the `ApiToken`."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send `Token <secret>` (one token, no spaces)."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(services.invalid_token_message(), "token_invalid") from None
        try:
            token = services.api_token_authenticate(secret=secret)
        except services.TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc), exc.code) from exc
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apitokens.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <secret>` (or `Bearer <secret>`): a token made at /account/tokens/. "
            "A read token may only use GET, HEAD and OPTIONS.",
        }


class TokenScopeAllows(permissions.BasePermission):
    """A read-only token may only read; session users and submit tokens pass."""

    message = "This API token may only read: create a token with the scope “read and submit” to do this."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken) or request.method in permissions.SAFE_METHODS:
            return True
        return token.may_submit


class ApiTokenRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token (setting API_TOKEN_RATE); session requests are not counted here."""

    scope = "api_token"

    def get_rate(self):
        return settings.API_TOKEN_RATE  # read per request, so a changed setting applies at once

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
