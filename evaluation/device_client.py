"""The device host's HTTP client of the site's API (standard library only, no Django).

Every call carries `Authorization: Device <token>`; the model is fetched from the signed, expiring URL
the site returns when the device claims a job (claiming also takes the device's lease, which the worker
renews while the job runs). `SiteUnavailable` means "try again later" (network, 5xx),
`SiteRefused` a 4xx answer that retrying will not fix.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, is_dataclass
from pathlib import Path

API_PREFIX = "/api/evaluation"


class SiteUnavailable(Exception):
    pass


class SiteRefused(Exception):
    pass


class SiteClient:
    def __init__(self, site_url: str, token: str, *, timeout: float = 30):
        self.site_url = site_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body or {}, default=lambda o: asdict(o) if is_dataclass(o) else str(o)).encode()
        request = urllib.request.Request(
            self.site_url + path, data=data if method != "GET" else None, method=method
        )
        request.add_header("Authorization", f"Device {self.token}")
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            if exc.code >= 500 or exc.code == 429:
                raise SiteUnavailable(f"{method} {path}: HTTP {exc.code} {detail}") from None
            raise SiteRefused(f"{method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise SiteUnavailable(f"{method} {path}: {exc}") from None

    def register(self, devices: list) -> list[dict]:
        return self._request("POST", f"{API_PREFIX}/hosts/register/", {"devices": devices})

    def heartbeat(self, slugs: list[str]) -> dict:
        return self._request("POST", f"{API_PREFIX}/hosts/heartbeat/", {"devices": slugs})

    def claim(self, uid: str, *, device: str, worker: str, holder: str = "", dead_holder: str = "") -> dict:
        """Claims the job and the device's lease for `holder` (this process); `dead_holder` takes the
        lease over from a holder this machine has seen die."""
        body = {"device": device, "worker": worker, "holder": holder or worker}
        if dead_holder:
            body["dead_holder"] = dead_holder
        return self._request("POST", f"{API_PREFIX}/hosts/jobs/{uid}/claim/", body)

    def renew_lease(self, uid: str, *, device: str, attempt: int) -> bool:
        """Extends the device's lease held by this attempt; False when it no longer holds it."""
        answer = self._request(
            "POST", f"{API_PREFIX}/hosts/jobs/{uid}/claim/", {"device": device, "renew": attempt}
        )
        return bool(answer.get("renewed"))

    def report(
        self, uid: str, *, attempt: int, result: dict | None = None, error: str = "", log: str = ""
    ) -> dict:
        body = {"attempt": attempt, "log": log[-200000:]}
        if result is not None:
            body["result"] = result
        else:
            body["error"] = error
        return self._request("POST", f"{API_PREFIX}/hosts/jobs/{uid}/report/", body)

    def release(self, uid: str, *, reason: str, attempt: int | None = None) -> dict:
        data = {"reason": reason} if attempt is None else {"reason": reason, "attempt": attempt}
        return self._request("POST", f"{API_PREFIX}/hosts/jobs/{uid}/release/", data)

    def download(self, url_path: str, destination: Path, *, max_bytes: int) -> int:
        """Streams the model to `destination`; refuses more than `max_bytes`."""
        url = url_path if url_path.startswith("http") else self.site_url + url_path
        try:
            with (
                urllib.request.urlopen(url, timeout=self.timeout) as response,
                open(destination, "wb") as out,
            ):
                length = int(response.headers.get("Content-Length") or 0)
                if length > max_bytes:
                    raise SiteRefused(f"model of {length} bytes exceeds {max_bytes}")
                copied = 0
                while chunk := response.read(1 << 20):
                    copied += len(chunk)
                    if copied > max_bytes:
                        raise SiteRefused(f"model exceeds {max_bytes} bytes")
                    out.write(chunk)
                return copied
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise SiteUnavailable(f"download: HTTP {exc.code}") from None
            raise SiteRefused(f"download: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise SiteUnavailable(f"download: {exc}") from None
