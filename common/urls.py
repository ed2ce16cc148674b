"""The one URL builder for links that leave the site (e-mails, the iCalendar feed, API answers, device
hosts): `absolute_url(path)` is `SITE_URL` + path, read at call time. `SITE_URL` is the public address
the chairs configured, never the Host header of whichever request happens to build the link."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")
