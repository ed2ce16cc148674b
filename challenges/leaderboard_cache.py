"""The leaderboard cache: one version token per challenge, replaced whenever something a leaderboard
shows changes, and cached values (the ranked rows, rendered pages, the CSV) stored under it.

What changes a leaderboard: a submission reaching (or leaving) "done" — its scores —, a team (its
name, or its removal), the track itself (metrics, ranking policy, title, slug), its milestones (who may
see the board) and the workshop (its zone, whether it is public). Signal receivers on those models
(`connect()`, called from `ChallengesConfig.ready`) bump the version, so services, admin and shell edits
all invalidate. The bump happens at once and again after commit: a reader that rendered uncommitted
state in between cached it under a version that is replaced at commit, never under the current one.

The version is a random token, not a counter, so a cache that lost it (eviction, restart) or a reused
primary key never revives an old page. Cache failures (Redis down) are logged and fall back to
computing the value: the board gets slower, never broken. Entries expire after
`LEADERBOARD_CACHE_SECONDS` (default 300) in any case.
"""

import contextlib
import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from conference.models import Workshop

from .models import Challenge, Milestone, Submission, Team

log = logging.getLogger(__name__)
_MISSING = object()


def _timeout() -> int:
    return int(settings.LEADERBOARD_CACHE_SECONDS)


def _version_key(challenge_id: int) -> str:
    return f"lb:v:{challenge_id}"


def version(challenge_id: int) -> str:
    """The challenge's current leaderboard version (created on first use)."""
    key = _version_key(challenge_id)
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            value = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation; its outage must not break pages
        log.warning("leaderboard cache unavailable (version of challenge %s)", challenge_id, exc_info=True)
        return ""
    return value or ""


def _replace_version(challenge_id: int) -> None:
    try:
        cache.set(_version_key(challenge_id), uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001
        log.warning("leaderboard cache unavailable (bump of challenge %s)", challenge_id, exc_info=True)


def bump(challenge_id: int) -> None:
    """Invalidates everything cached for the challenge's leaderboards: now and after commit."""
    _replace_version(challenge_id)
    transaction.on_commit(lambda: _replace_version(challenge_id))


def get_or_build(challenge_id: int, name: str, build, *, ver: str | None = None, stale_ok: bool = False):
    """`build()` cached under the challenge's current version (or `ver`, read once by the caller).

    One process builds a missing value at a time (a lock in the cache); the others wait for it, or,
    with `stale_ok` (whole pages and the CSV, never the rows other values are built from), answer at
    once with the last value built under an earlier version — a crowd that arrives just after a new
    score does not rank the board fifty times over."""
    ver = version(challenge_id) if ver is None else ver
    if not ver:
        return build()
    key = f"lb:{challenge_id}:{ver}:{name}"
    stale_key = f"lb:{challenge_id}:last:{name}"
    lock_key = f"{key}:building"
    try:
        value = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        building = not cache.add(lock_key, 1, timeout=BUILD_LOCK_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("leaderboard cache unavailable (get %s)", key, exc_info=True)
        return build()
    if building:
        value = _stale_or_wait(key, stale_key if stale_ok else None, lock_key)
        if value is not _MISSING:
            return value
    try:
        value = build()
        try:
            cache.set_many({key: value, stale_key: value} if stale_ok else {key: value}, timeout=_timeout())
        except Exception:  # noqa: BLE001
            log.warning("leaderboard cache unavailable (set %s)", key, exc_info=True)
    finally:
        if not building:
            with contextlib.suppress(Exception):  # the cache may be down: the lock then expires
                cache.delete(lock_key)
    return value


BUILD_LOCK_SECONDS = 30
WAIT_FOR_BUILDER_SECONDS = 5.0


def _stale_or_wait(key: str, stale_key: str | None, lock_key: str):
    """While another process builds `key`: the stale value if allowed and present, else the fresh one
    once it is there; `_MISSING` when the builder gave up (then the caller builds it itself)."""
    try:
        if stale_key is not None:
            value = cache.get(stale_key, _MISSING)
            if value is not _MISSING:
                return value
        waited_until = time.monotonic() + WAIT_FOR_BUILDER_SECONDS
        while time.monotonic() < waited_until:
            time.sleep(0.01)
            value = cache.get(key, _MISSING)
            if value is not _MISSING:
                return value
            if cache.get(lock_key) is None:
                return cache.get(key, _MISSING)
    except Exception:  # noqa: BLE001
        log.warning("leaderboard cache unavailable (wait for %s)", key, exc_info=True)
    return _MISSING


# --- Visitors' pages without the database --------------------------------------------------------------
# A visitor's page is the same for everyone, so the URL's slugs lead to it through a "route" entry (the
# challenge's id, the version the route was stored under, when the board becomes visible). A route whose
# version is no longer current (anything changed, the workshop or the track included) is ignored.


def _route_key(workshop_slug: str, challenge_slug: str) -> str:
    return f"lb:route:{workshop_slug}:{challenge_slug}"


def route_remember(
    *, workshop_slug: str, challenge_slug: str, challenge_id: int, ver: str, visible_from
) -> None:
    if not ver:
        return
    try:
        cache.set(
            _route_key(workshop_slug, challenge_slug),
            {"pk": challenge_id, "ver": ver, "visible_from": visible_from},
            timeout=_timeout(),
        )
    except Exception:  # noqa: BLE001
        log.warning("leaderboard cache unavailable (route)", exc_info=True)


def route_lookup(*, workshop_slug: str, challenge_slug: str, name_for, now, route_out: dict | None = None):
    """The cached value for a visitor (`name_for(visible)` names it), or None: cache reads, no SQL.
    Just after a change, while another process rebuilds the value, the last one built is answered.
    `route_out` receives the route (challenge id, version, visible_from) when one was found."""
    try:
        route = cache.get(_route_key(workshop_slug, challenge_slug))
        if not route:
            return None
        if route_out is not None:
            route_out.update(route)
        pk = route["pk"]
        name = name_for(route["visible_from"] is not None and now >= route["visible_from"])
        version_key, value_key, stale_key = (
            _version_key(pk),
            f"lb:{pk}:{route['ver']}:{name}",
            f"lb:{pk}:last:{name}",
        )
        values = cache.get_many([version_key, value_key, stale_key])
        current = values.get(version_key)
        if current == route["ver"]:
            return values.get(value_key)
        if current and stale_key in values and cache.get(f"lb:{pk}:{current}:{name}:building"):
            return values[stale_key]
    except Exception:  # noqa: BLE001
        log.warning("leaderboard cache unavailable (route lookup)", exc_info=True)
    return None


# --- Invalidation -----------------------------------------------------------------------------------


def _submission_saved(sender, instance, created, update_fields=None, **kwargs):
    # Only "done" submissions are on the board: queued/scoring/failed changes leave it as it is, so a
    # deadline crowd of uploads does not empty the cache. An edit that is not a known service update
    # (admin, shell: update_fields None on an existing row) bumps too.
    if instance.status == instance.Status.DONE or (not created and update_fields is None):
        bump(instance.challenge_id)


def _submission_deleted(sender, instance, **kwargs):
    if instance.status == instance.Status.DONE:
        bump(instance.challenge_id)


def _by_challenge_id(sender, instance, **kwargs):
    bump(instance.challenge_id)


def _challenge_changed(sender, instance, **kwargs):
    bump(instance.pk)


def _workshop_changed(sender, instance, **kwargs):
    for pk in Challenge.objects.filter(workshop=instance).values_list("pk", flat=True):
        bump(pk)


def connect() -> None:
    uid = "challenges.leaderboard_cache"
    post_save.connect(_submission_saved, sender=Submission, dispatch_uid=f"{uid}.submission.save")
    post_delete.connect(_submission_deleted, sender=Submission, dispatch_uid=f"{uid}.submission.delete")
    for model in (Team, Milestone):
        post_save.connect(_by_challenge_id, sender=model, dispatch_uid=f"{uid}.{model.__name__}.save")
        post_delete.connect(_by_challenge_id, sender=model, dispatch_uid=f"{uid}.{model.__name__}.delete")
    post_save.connect(_challenge_changed, sender=Challenge, dispatch_uid=f"{uid}.challenge.save")
    post_delete.connect(_challenge_changed, sender=Challenge, dispatch_uid=f"{uid}.challenge.delete")
    post_save.connect(_workshop_changed, sender=Workshop, dispatch_uid=f"{uid}.workshop.save")
