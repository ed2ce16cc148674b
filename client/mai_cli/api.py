"""The site's REST API over HTTP: one `ApiClient` per command, the server's refusals as `ApiError` with
the server's own message, network trouble as `Unreachable`, uploads streamed from disk, and polling
with backoff for `--wait`.
"""

from __future__ import annotations

import html
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from . import __version__

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
# Statuses a poll shrugs off while waiting (a proxy in front of a restarting site).
TRANSIENT_STATUSES = {502, 503, 504}


class CliFailure(Exception):
    """Anything that ends a command with a message and an exit status."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body

    def as_json(self) -> dict:
        return {"error": self.message, "status": self.status}


class ApiError(CliFailure):
    """The server answered with an error status; `message` is what it said."""

    exit_code = 1


class Unreachable(CliFailure):
    """No answer: connection refused, DNS, TLS, a timeout."""

    exit_code = 3


class WaitTimeout(CliFailure):
    """`--wait` gave up before the work finished (the work goes on on the server); `body` is what the
    last poll saw, so a script can pick the work up again."""

    exit_code = 4

    def as_json(self) -> dict:
        return {**super().as_json(), "last": self.body}


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """DRF's error bodies (`{"detail": …}`, `{"errors": […]}`, `{"field": ["…"]}`, nested) → lines."""
    if value is None:
        return []
    if isinstance(value, str):
        return [f"{prefix}{value}"]
    if isinstance(value, list):
        return [line for item in value for line in _flatten(item, prefix)]
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if key in ("detail", "errors", "error", "message", "non_field_errors"):
                lines += _flatten(item, prefix)
            elif key in ("status", "code", "reason", "status_code", "type"):
                continue
            else:
                lines += _flatten(item, f"{prefix}{key}: ")
        return lines
    return [f"{prefix}{value}"]


def body_messages(body: Any) -> list[str]:
    """The lines of an error body. The site answers `{"detail": summary, "errors": [line…], "fields":
    {…}}`: the lines when they say it all, else the summary and then the lines; other bodies flattened."""
    if isinstance(body, dict) and ("detail" in body or "errors" in body):
        errors = _flatten(body.get("errors"))
        detail = _flatten(body.get("detail"))
        summary = " ".join(detail)
        if errors and (not summary or summary == " ".join(errors) or all(e in summary for e in errors)):
            return errors
        return detail + errors
    return _flatten(body)


def server_message(response: httpx.Response) -> str:
    """What the server said about a failed request, in its own words where it gave any."""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            lines = body_messages(response.json())
        except ValueError:
            lines = []
        if lines:
            return "\n".join(dict.fromkeys(lines))  # DRF bodies may repeat `detail` in `errors`
    text = response.text or ""
    if "html" in content_type:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.IGNORECASE | re.DOTALL)
        found = heading or title
        text = re.sub(r"<[^>]+>", "", found.group(1)) if found else ""
        text = html.unescape(text)
    text = " ".join(text.split())[:300]
    reason = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {reason}" + (f": {text}" if text else "")


class ProgressReader:
    """A file opened for an upload: reads in the chunks httpx asks for and reports each to `advance`,
    so the file is never read into memory whole. httpx takes its length from `fileno()`."""

    def __init__(self, handle: IO[bytes], advance: Callable[[int], None] | None):
        self._handle = handle
        self._advance = advance
        self.name = handle.name

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        if chunk and self._advance:
            self._advance(len(chunk))
        return chunk

    def fileno(self) -> int:
        return self._handle.fileno()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()


@dataclass
class Upload:
    """A form field's file: its path on disk (the server gets its name) and its media type."""

    field: str
    path: Path
    content_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def encode_form_multipart(fields: dict[str, str | list[str]]) -> tuple[bytes, str]:
    """Text fields as a multipart/form-data body (no files): the body and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            quoted = name.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
                + str(item).encode("utf-8")
                + b"\r\n"
            )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class ApiClient:
    def __init__(self, url: str, token: str | None, *, timeout_s: float = READ_TIMEOUT_S):
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": f"mai-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Unreachable(
                f"{self.url} did not answer in time ({type(exc).__name__}); try again, or check the URL."
            ) from exc
        except httpx.ConnectError as exc:
            raise Unreachable(f"Cannot connect to {self.url}: {_reason(exc)}.") from exc
        except httpx.HTTPError as exc:
            raise Unreachable(f"The connection to {self.url} failed: {_reason(exc)}.") from exc
        if response.is_redirect:
            location = response.headers.get("location", "")
            raise ApiError(
                f"The server answered {method} {path} with a redirect to {location}: "
                "check the site URL (`mai login --url …`, e.g. https:// instead of http://).",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise ApiError(
                server_message(response), status=response.status_code, body=_json_or_none(response)
            )
        return response

    def get(self, path: str, **params) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return _json(self.request("GET", path, params=clean))

    def get_text(self, path: str, **params) -> str:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean).text

    def download(self, path: str, target: Path, *, advance: Callable[[int], None] | None = None) -> int:
        """Streams a file to `target` (written beside it, then renamed); returns its size."""
        partial = target.with_name(target.name + ".part")
        size = 0
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code >= 400 or response.is_redirect:
                    response.read()
                    self._raise_for(response, "GET", path)
                with open(partial, "wb") as out:
                    for chunk in response.iter_bytes(64 * 1024):
                        out.write(chunk)
                        size += len(chunk)
                        if advance:
                            advance(len(chunk))
        except httpx.TimeoutException as exc:
            partial.unlink(missing_ok=True)
            raise Unreachable(f"{self.url} stopped answering during the download.") from exc
        except httpx.HTTPError as exc:
            partial.unlink(missing_ok=True)
            raise Unreachable(f"The download from {self.url} failed: {_reason(exc)}.") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        return size

    def _raise_for(self, response: httpx.Response, method: str, path: str) -> None:
        if response.is_redirect:
            raise ApiError(
                f"The server answered {method} {path} with a redirect to {response.headers.get('location')}.",
                status=response.status_code,
            )
        raise ApiError(server_message(response), status=response.status_code, body=_json_or_none(response))

    def post(self, path: str, json: Any = None) -> Any:
        return _json(self.request("POST", path, json=json if json is not None else {}))

    def delete(self, path: str) -> Any:
        return _json(self.request("DELETE", path))

    def upload(
        self,
        path: str,
        *,
        files: Iterable[Upload],
        data: dict[str, str | list[str] | None] | None = None,
        advance: Callable[[int], None] | None = None,
        method: str = "POST",
    ) -> Any:
        """Sends multipart/form-data with every file streamed from disk (Content-Length known up front,
        so the server can refuse an oversized upload before it is sent). A list value repeats its field."""
        clean = {k: v for k, v in (data or {}).items() if v is not None}
        handles = []
        try:
            fields = []
            for item in files:
                handle = open(item.path, "rb")  # noqa: SIM115 - closed in the finally below
                handles.append(handle)
                fields.append(
                    (item.field, (item.path.name, ProgressReader(handle, advance), item.content_type))
                )
            if not fields:  # httpx would send a form-encoded body; the API takes multipart
                body, content_type = encode_form_multipart(clean)
                return _json(self.request(method, path, content=body, headers={"Content-Type": content_type}))
            return _json(self.request(method, path, data=clean, files=fields))
        finally:
            for handle in handles:
                handle.close()

    # --- waiting -----------------------------------------------------------------------------------

    def poll(
        self,
        path: str,
        *,
        finished: Callable[[dict], bool],
        on_update: Callable[[dict], None] | None = None,
        timeout_s: float,
        first_interval_s: float = 0.5,
        max_interval_s: float = 5.0,
        what: str = "The job",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> dict:
        """GETs `path` until `finished(body)`: the first poll after `first_interval_s`, then each interval
        half as long again, at most `max_interval_s`; network trouble and 502–504 while waiting are
        retried until the deadline. Raises WaitTimeout when it passes."""
        deadline = clock() + timeout_s
        interval = first_interval_s
        last: dict | None = None
        last_problem = ""
        while True:
            try:
                last = self.get(path)
                last_problem = ""
            except Unreachable as exc:
                last_problem = exc.message
            except ApiError as exc:
                if exc.status not in TRANSIENT_STATUSES:
                    raise
                last_problem = exc.message
            if last is not None:
                if on_update:
                    on_update(last)
                if finished(last):
                    return last
            remaining = deadline - clock()
            if remaining <= 0:
                state = f" (last seen: {_describe_state(last)})" if last else ""
                problem = f"; last problem: {last_problem}" if last_problem else ""
                raise WaitTimeout(
                    f"{what} did not finish within {timeout_s:g} s{state}{problem}. "
                    "It goes on on the server: look again later.",
                    body=last,
                )
            sleep(min(interval, remaining))
            interval = min(interval * 1.5, max_interval_s)


def _describe_state(body: dict) -> str:
    for key in ("state", "status"):
        if key in body:
            return str(body[key])
    return "unknown"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is the site running at this address?)"
    if "Name or service not known" in text or "nodename nor servname" in text or "Errno -2" in text:
        return "unknown host name"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "its TLS certificate could not be verified"
    return text


def _json_or_none(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            return None
    return None


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise ApiError(
            f"The server answered {response.request.method} {response.request.url.path} with something "
            "that is not JSON: is the URL the site's root?",
            status=response.status_code,
        ) from exc
