"""The WSGI fast path in front of Django (config/fastpath.py): a visitor's leaderboard page and CSV are
stored whole after Django made them once, then served without Django until the board changes; signed-in
users, htmx requests and hidden boards always reach Django."""

import pytest
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from django.test import override_settings

from challenges.models import Milestone, Submission
from config.fastpath import X_STORE, LeaderboardFastPath
from config.wsgi import django_application

from .test_leaderboard_page import seed_board, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The real WSGI handler closes the database connection after each request, as in production;
    here that connection holds the test's transaction (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


class Counting:
    """Django, counting the requests that reach it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return django_application(environ, start_response)


def get(app, path, query="", cookie=""):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(),
        "wsgi.errors": __import__("sys").stderr,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body.decode()


@override_settings(SECURE_SSL_REDIRECT=False)
def test_stored_once_then_served_without_django_until_the_board_changes(denoising):
    teams = seed_board(denoising, 3)
    django = Counting()
    app = LeaderboardFastPath(django)
    page = url(denoising)
    first = get(app, page)
    assert first[0].startswith("200") and django.calls == 1
    assert X_STORE not in first[1]  # the marker never leaves the site
    for _ in range(3):
        again = get(app, page)
        assert again[2] == first[2]
    assert django.calls == 1
    assert "Content-Security-Policy" in again[1]  # the middleware's headers are part of the copy
    csv_first = get(app, url(denoising, "leaderboard.csv"))
    csv_again = get(app, url(denoising, "leaderboard.csv"))
    assert csv_first[2] == csv_again[2] and django.calls == 2

    # A new score replaces the board's version: the next visitor gets Django's fresh page.
    Submission.objects.filter(team=teams[0]).update(scores={"psnr": 99.0, "ssim": 0.9})
    Submission.objects.get(team=teams[0]).save()  # the signal that a score changed
    # While another process rebuilds the page, visitors still get the last copy, without Django.
    key = f"lb:wsgi:{denoising.workshop.slug}:{denoising.slug}:leaderboard/:1"
    cache.add(f"{key}:rebuild", 1)
    assert get(app, page)[2] == first[2] and django.calls == 2
    cache.delete(f"{key}:rebuild")
    fresh = get(app, page)
    assert django.calls == 3
    assert fresh[2] != first[2] and teams[0].name in fresh[2]


@override_settings(SECURE_SSL_REDIRECT=False)
def test_signed_in_users_htmx_and_hidden_boards_always_reach_django(denoising, settings):
    seed_board(denoising, 2)
    django = Counting()
    app = LeaderboardFastPath(django)
    page = url(denoising)
    get(app, page)
    get(app, page, cookie=f"{settings.SESSION_COOKIE_NAME}=abc")
    get(app, page, query="sort=x")
    assert django.calls == 3
    # Before the validation phase the board is not public: that page is shared too, until the
    # milestone passes (here the stored copy is aged instead of waiting for the clock).
    from django.utils import timezone

    Milestone.objects.filter(challenge=denoising).update(at=timezone.now() + timezone.timedelta(days=30))
    for milestone in Milestone.objects.filter(challenge=denoising):
        milestone.save()  # the signal that replaces the board's version
    hidden = [get(app, page) for _ in range(2)]
    assert django.calls == 4 and hidden[0][2] == hidden[1][2]
    assert 'data-testid="leaderboard-hidden"' in hidden[0][2] or "not public" in hidden[0][2]
    key = (
        next(k for k in cache.keys("lb:wsgi:*") if k.endswith(":leaderboard/:1"))
        if hasattr(cache, "keys")
        else None
    )
    if key is None:
        key = f"lb:wsgi:{denoising.workshop.slug}:{denoising.slug}:leaderboard/:1"
    stored = cache.get(key)
    stored["visible_from"] = (timezone.now() - timezone.timedelta(seconds=1)).isoformat()
    cache.set(key, stored)
    get(app, page)
    assert django.calls == 5
