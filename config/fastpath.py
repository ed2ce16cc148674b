"""The leaderboard fast path: a visitor's leaderboard page or CSV straight from the cache, before Django.

A deadline crowd reloads the public leaderboard; each of those requests is the same bytes for everyone
who is not signed in. Django's middleware alone costs about 2 ms of CPU per request, which caps two
workers at a few hundred requests per second. So this WSGI layer, in front of Django:

- serves `GET /<workshop>/challenges/<challenge>/leaderboard/` (optionally `?page=N`) and
  `…/leaderboard.csv` to a visitor without a session or messages cookie and without htmx, from a
  stored copy of the whole response Django made — status, headers (the Content-Security-Policy, HSTS…
  included) and body — when that copy was made under the challenge's current leaderboard version
  (`challenges.leaderboard_cache`: any change to scores, teams, policy or milestones replaces the
  version) and the board's visibility is the same now as then (a milestone passing changes it);
- just after the board changed (a new score), one request goes to Django to make the new copy while
  the others still get the previous one (at most the time Django takes to build the page); a change
  of visibility is never served stale;
- otherwise passes the request to Django and, when the view marked the response as the same for every
  visitor (`X_STORE`, set only for plain visitors) and it sets no cookie, stores it for the next one.

A cache outage sends every request through Django, as before. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

ROUTE = re.compile(
    r"^/(?P<workshop>[-\w]+)/challenges/(?P<challenge>[-\w]+)/(?P<what>leaderboard/|leaderboard\.csv)$"
)
PAGE = re.compile(r"^(?:page=(?P<page>\d{1,6}))?$")
X_STORE = "X-Leaderboard-Store"  # set by the view: JSON {"pk", "ver", "visible_from"}; never sent out
DROP = {X_STORE.lower(), "x-request-arrived-at", "set-cookie"}
REBUILD_LOCK_S = 10


def _key(match: re.Match, page: str) -> str:
    return f"lb:wsgi:{match['workshop']}:{match['challenge']}:{match['what']}:{page}"


def _plain_visitor(environ) -> bool:
    cookies = environ.get("HTTP_COOKIE", "")
    return (
        settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
        and "HTTP_HX_REQUEST" not in environ
    )


def _visible(visible_from, now) -> bool:
    return visible_from is not None and now >= dt.datetime.fromisoformat(visible_from)


class LeaderboardFastPath:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        match = None
        if environ.get("REQUEST_METHOD") == "GET" and _plain_visitor(environ):
            match = ROUTE.match(environ.get("PATH_INFO", ""))
            query = PAGE.match(environ.get("QUERY_STRING", ""))
            if match and query:
                key = _key(match, query["page"] or "1")
                stored, current = self._lookup(key)
                if stored is not None and (current or not self._rebuild_is_mine(key)):
                    start_response(stored["status"], stored["headers"])
                    return [stored["body"]]
                return self._pass_and_store(environ, start_response, key)
        return self.app(environ, start_response)

    def _lookup(self, key: str) -> tuple[dict | None, bool]:
        """(the stored copy or None, whether it is of the current version). A copy whose visibility is
        no longer right is never returned."""
        from challenges.leaderboard_cache import version

        try:
            stored = cache.get(key)
            if not stored:
                return None, False
            if _visible(stored["visible_from"], dt.datetime.now(dt.UTC)) != stored["visible"]:
                return None, False
            return stored, version(stored["pk"]) == stored["ver"]
        except Exception:  # noqa: BLE001 - a cache outage: Django answers
            log.warning("leaderboard fast path: cache unavailable", exc_info=True)
            return None, False

    def _rebuild_is_mine(self, key: str) -> bool:
        """One request per stored copy goes to Django after a change; the lock expires by itself."""
        try:
            return bool(cache.add(f"{key}:rebuild", 1, timeout=REBUILD_LOCK_S))
        except Exception:  # noqa: BLE001
            return True

    def _pass_and_store(self, environ, start_response, key: str):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            kept = [(name, value) for name, value in headers if name.lower() != X_STORE.lower()]
            return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self._store(key, captured, body)
        return [body]

    def _store(self, key: str, captured: dict, body: bytes) -> None:
        headers = captured.get("headers") or []
        marker = next((value for name, value in headers if name.lower() == X_STORE.lower()), None)
        if marker is None or not captured["status"].startswith("200"):
            return
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return  # something personal: never shared
        meta = json.loads(marker)
        now = dt.datetime.now(dt.UTC)
        stored = {
            "pk": meta["pk"],
            "ver": meta["ver"],
            "visible_from": meta["visible_from"],
            "visible": _visible(meta["visible_from"], now),
            "status": captured["status"],
            "headers": [(n, v) for n, v in headers if n.lower() not in DROP],
            "body": body,
        }
        try:
            cache.set(key, stored, timeout=int(settings.LEADERBOARD_CACHE_SECONDS))
            cache.delete(f"{key}:rebuild")
        except Exception:  # noqa: BLE001
            log.warning("leaderboard fast path: cache unavailable (store)", exc_info=True)
