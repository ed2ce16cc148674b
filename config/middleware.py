"""Site-wide middleware: the instant each request arrived.

`ArrivalMiddleware` comes first in `MIDDLEWARE`, so it runs before anything reads the request body
(CSRF, upload handlers, forms). It stamps `request.arrived_at` (an aware UTC datetime) and every
deadline check uses that instant, not the moment a busy worker got round to the view: a large upload
that started before the deadline is judged by when it reached the site, and the stored submission time
is the same instant. Every response carries that instant in `X-Request-Arrived-At` (ISO 8601, UTC).

Behind a reverse proxy that stamps the request when it reached the proxy, name that header in
`REQUEST_ARRIVAL_HEADER` (e.g. `X-Request-Start`, nginx: `proxy_set_header X-Request-Start
"t=${msec}";`). It is trusted only when that setting names it (the proxy must overwrite whatever the
client sent), read as seconds, milliseconds or microseconds since the epoch with an optional `t=`
prefix, and never later than the moment the site saw the request.

`ConcurrencyLimitMiddleware` (second) lets a web process run many threads — so that every request is
taken, and stamped, the moment it arrives — while at most `WEB_MAX_CONCURRENT_REQUESTS` of them (0: no
limit) go further at once: the others wait, stamped, with their bodies unread, so a deadline crowd of
uploads cannot open more database connections than PostgreSQL allows.
"""

import datetime as dt
import threading

from django.conf import settings
from django.utils import timezone

ARRIVAL_RESPONSE_HEADER = "X-Request-Arrived-At"


def _parse_epoch(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if raw.startswith("t="):
        raw = raw[2:]
    try:
        value = float(raw)
    except ValueError:
        return None
    # Seconds (1.7e9), milliseconds (1.7e12) or microseconds (1.7e15) since the epoch.
    while value > 1e11:
        value /= 1000.0
    if value <= 0:
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


def request_arrival(request, now: dt.datetime | None = None) -> dt.datetime:
    """The instant the request reached the site: the trusted proxy's stamp when configured and sane,
    otherwise `now` (the moment this middleware ran)."""
    now = now or timezone.now()
    header = settings.REQUEST_ARRIVAL_HEADER
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        stamped = _parse_epoch(request.META.get(meta_key, ""))
        if stamped is not None and stamped <= now:
            return stamped
    return now


def arrived_at(request) -> dt.datetime:
    """`request.arrived_at`, or the clock for requests that did not pass the middleware."""
    return getattr(request, "arrived_at", None) or timezone.now()


class ArrivalMiddleware:
    """Stamps `request.arrived_at` before the body is read. Keep it first in `MIDDLEWARE`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.arrived_at = request_arrival(request)
        response = self.get_response(request)
        # The instant the deadline checks used, so a participant (or a test) can see how it was judged.
        response.headers.setdefault(ARRIVAL_RESPONSE_HEADER, request.arrived_at.isoformat())
        return response


class ConcurrencyLimitMiddleware:
    """At most `WEB_MAX_CONCURRENT_REQUESTS` requests of this process past this point (0: no limit)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._guard = threading.Lock()
        self._semaphore: threading.BoundedSemaphore | None = None
        self._limit = 0

    def _semaphore_for(self, limit: int) -> threading.BoundedSemaphore:
        with self._guard:
            if self._semaphore is None or self._limit != limit:
                self._semaphore, self._limit = threading.BoundedSemaphore(limit), limit
            return self._semaphore

    def __call__(self, request):
        limit = int(settings.WEB_MAX_CONCURRENT_REQUESTS or 0)
        if limit <= 0:
            return self.get_response(request)
        with self._semaphore_for(limit):
            return self.get_response(request)
