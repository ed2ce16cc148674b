"""Errors of the API, in one place: every answer under /api/ that is not a success is JSON of one shape,

    {"detail": "<what went wrong, for a person>", "code": "<machine code>",
     "errors": ["<each message>", …], "fields": {"<field>": ["<message>", …]}}

(`fields` only for invalid input). Made here by

- `exception_handler` (DRF's EXCEPTION_HANDLER) for everything a DRF view raises;
- `ApiJsonErrorsMiddleware` for what never reaches a DRF view: a URL that does not resolve (a malformed
  id such as /api/evaluation/jobs/not-a-uuid/), a server error, a refusal by another middleware;
- `ApiAutoSchema` (drf-spectacular's schema class) documents them: each operation lists the error
  statuses it can answer (400 and 415 for a body, 401 without credentials, 403 for a read-only token, 404 for
  a path with ids, 413 for uploads, 429 when throttled) with `ErrorSerializer` as their body, beside
  what a view declares itself with `extend_schema(responses=…)`.
"""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, permissions, serializers
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer):
    """The body of every error the API answers."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence for a person.")
    code = serializers.CharField(help_text="A machine-readable code, e.g. not_found, invalid, throttled.")
    errors = serializers.ListField(child=serializers.CharField(), help_text="Every message, one by one.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field (400 only).",
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input: `detail` says what, `fields` per field.",
    401: "No valid credentials: send `Authorization: Token <secret>`.",
    403: "Not allowed (e.g. a read-only token on a write, or not a member of this edition).",
    404: "Nothing at this address for you (unknown, or not visible to the caller).",
    413: "The upload is larger than the limit; nothing was read or saved.",
    415: "The body's media type is not one this endpoint reads (see its request body's content types).",
    429: "Too many requests: wait for the number of seconds in the Retry-After header.",
}


def error_response(status: int, description: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS.get(status, ""))


def errors(*statuses: int) -> dict:
    """`extend_schema(responses={200: X, **errors(403, 404)})`."""
    return {status: error_response(status) for status in statuses}


def _messages(detail) -> tuple[list[str], dict[str, list[str]]]:
    """Flattens DRF's nested error detail into (every message, messages per field)."""
    if isinstance(detail, dict):
        if set(detail) == {"errors"} and isinstance(detail["errors"], list):  # already a list of messages
            return [str(m) for m in detail["errors"]], {}
        messages, fields = [], {}
        for field, value in detail.items():
            inner, _ = _messages(value)
            if field in ("non_field_errors", "detail", "__all__"):
                messages.extend(inner)
            else:
                fields[str(field)] = inner
                messages.extend(f"{field}: {m}" for m in inner)
        return messages, fields
    if isinstance(detail, list):
        messages = []
        for item in detail:
            messages.extend(_messages(item)[0])
        return messages, {}
    return [str(detail)], {}


def _code(exc, status: int) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    if isinstance(codes, str):
        return codes
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return {404: "not_found", 403: "permission_denied", 413: "too_large"}.get(status, "error")


def error_body(detail, *, status: int, code: str | None = None) -> dict:
    messages, fields = _messages(detail)
    messages = [m for m in messages if m] or [HTTPStatus(status).phrase + "."]
    body = {"detail": " ".join(messages), "code": code or "error", "errors": messages}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc, context):
    """DRF's handler, then the body reshaped to `ErrorSerializer`. A view may give its own text for a
    request without its kind of credentials (`not_authenticated_message`, e.g. device-host endpoints)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if str(exc) else None)
    view = context.get("view")
    if isinstance(exc, exceptions.NotAuthenticated) and getattr(view, "not_authenticated_message", None):
        exc = exceptions.NotAuthenticated(view.not_authenticated_message, "wrong_credentials")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(exc.detail, status=response.status_code, code=_code(exc, response.status_code))
    return response


class ApiJsonErrorsMiddleware:
    """Under /api/, an error answer that is not JSON (Django's 404 page for a path that does not
    resolve, the 500 page, another middleware's refusal) is replaced by the JSON error body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self._as_json(response)
        return response

    @staticmethod
    def _as_json(response):
        status = response.status_code
        detail = {
            404: "Not found: there is no API endpoint or object at this address.",
            500: "Server error: the request failed on our side and was logged.",
        }.get(status)
        if detail is None:
            try:
                text = response.content.decode()[:500].strip() if not response.streaming else ""
            except UnicodeDecodeError:
                text = ""
            # A short plain-text refusal says more than the status phrase; an HTML page does not.
            detail = text if text and "<" not in text else HTTPStatus(status).phrase + "."
        code = {404: "not_found", 500: "server_error", 503: "unavailable"}.get(status, "error")
        replacement = JsonResponse({"detail": detail, "code": code, "errors": [detail]}, status=status)
        for header in ("Retry-After", "Allow"):
            if header in response:
                replacement[header] = response[header]
        return replacement


def _needs_credentials(view) -> bool:
    return any(not isinstance(p, permissions.AllowAny) for p in view.get_permissions())


class ApiAutoSchema(AutoSchema):
    """Adds the error answers every operation can give (see the module's docstring) to what the view
    declares; a status the view documents itself keeps the view's description."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        method = self.method.upper()
        statuses: dict[int, str | None] = {}
        if method in ("POST", "PUT", "PATCH"):
            statuses[400] = None
            statuses[415] = None
        if _needs_credentials(self.view):
            statuses[401] = getattr(self.view, "not_authenticated_message", None)
            if method not in permissions.SAFE_METHODS:
                statuses[403] = None
        elif self.view.get_authenticators():  # public, but a token that is sent must be valid
            statuses[401] = "The token sent is invalid or revoked (this endpoint also answers without one)."
        if self.view.get_authenticators() and self.view.get_throttles():
            statuses[429] = None
        if "{" in self.path:
            statuses[404] = None
        if hasattr(self.view, "upload_limits") and method == "POST":
            statuses[413] = None
        for status, description in statuses.items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status, description), str(status), direction=direction
                )
        return responses


def error_payload(messages: list[str], *, code: str = "invalid") -> dict:
    """The error body for a view that answers a refusal itself: `Response(error_payload([…]), 400)`."""
    return error_body({"errors": messages}, status=400, code=code)
