"""The one upload guard: every view that takes files refuses an oversized upload before it is read,
and stops one whose body is sent without a Content-Length (chunked) or with a false one the moment a
file passes its limit, so nothing oversized reaches memory, disk or the database.

- `upload_limited(limits, refuse)`: a view decorator. On POST, before anything reads the body (CSRF
  included: the view is CSRF-protected inside the guard), it compares Content-Length with the limits
  and answers `refuse(request, message, *args, **kwargs)` at once when the body is too large; else it
  installs `LimitedUploadHandler` and calls the view.
- `upload_guard(request, limits)`: the same check for code that runs before the body is read (DRF
  views with token auth); returns the refusal or None.
- `upload_refused(request)`: after the view read request.FILES, the message when the stream was cut.
- `UploadLimitedMixin`: the same for DRF views (HTTP 413 with {"errors": [message]}).

`limits` is bytes per file field (`{"pdf": 30 MB, "supplementary": 100 MB}`) or one number for every
field; the whole body may exceed their sum by `FORM_SLACK_BYTES` (the form's other fields).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework import status
from rest_framework.exceptions import APIException

FORM_SLACK_BYTES = 1024 * 1024


def format_size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.0f} MB"
    return f"{value / 1024:.0f} KB"


class LimitedUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file as soon as it exceeds its field's limit."""

    def __init__(self, request, limits: dict[str, int]):
        super().__init__(request)
        self.limits = limits
        self.seen = 0
        self.limit = 0

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.seen = 0
        self.limit = self.limits.get(field_name, min(self.limits.values()))

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.request.upload_refused = (
                f"The file “{self.file_name}” is larger than {format_size(self.limit)} and was refused; "
                "nothing was saved."
            )
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _as_dict(limits: dict[str, int] | int) -> dict[str, int]:
    return dict(limits) if isinstance(limits, dict) else {"*": int(limits)}


def upload_guard(request, limits: dict[str, int] | int, labels: dict[str, str] | None = None) -> str | None:
    """Before the body is read: the refusal by Content-Length, or None after installing the handler.
    `labels` names the fields in the refusal ("the PDF", "the supplementary material")."""
    per_field = _as_dict(limits)
    total = sum(per_field.values()) + FORM_SLACK_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > total:
        if labels:
            allowed = ", ".join(
                f"{labels.get(field, field)} may have at most {format_size(limit)}"
                for field, limit in per_field.items()
            )
            return f"The upload is {format_size(length)}: {allowed}. Nothing was read or saved."
        return (
            f"The upload is {format_size(length)}; at most {format_size(max(per_field.values()))} is accepted "
            "here. Nothing was read or saved."
        )
    request.upload_handlers.insert(0, LimitedUploadHandler(request, per_field))
    return None


def upload_refused(request) -> str | None:
    return getattr(request, "upload_refused", None)


def upload_limited(
    limits: Callable[..., dict[str, int] | int],
    refuse: Callable[..., object],
    labels: dict[str, str] | None = None,
):
    """Decorates a view taking files; `limits(request, *args, **kwargs)` gives the limits."""

    def decorator(view):
        protected = csrf_protect(view)

        @csrf_exempt  # the guard runs first; the view itself stays CSRF-protected
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                message = upload_guard(request, limits(request, *args, **kwargs), labels)
                if message:
                    return refuse(request, message, *args, **kwargs)
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."


class UploadLimitedMixin:
    """For DRF views taking files: `upload_limits(request, *args, **kwargs)` gives the limits; the guard
    runs in `initial`, before authentication (whose CSRF check would parse the body) and before anything
    reads the body. A file cut off mid-stream is reported by `check_upload_complete(request)`, which the
    view calls after reading request.data."""

    def upload_limits(self, request, *args, **kwargs) -> dict[str, int] | int:
        raise NotImplementedError

    def upload_refusal(self, request, message: str) -> str:
        return message

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            message = upload_guard(request._request, self.upload_limits(request, *args, **kwargs))
            if message:
                raise UploadTooLarge({"errors": [self.upload_refusal(request, message)]})
        super().initial(request, *args, **kwargs)

    def check_upload_complete(self, request) -> None:
        request.data  # noqa: B018 - parses the body now, through the guard's handler
        message = upload_refused(request._request)
        if message:
            raise UploadTooLarge({"errors": [message]})
