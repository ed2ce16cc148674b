"""WSGI entry point (gunicorn config.wsgi): Django behind the leaderboard fast path (config/fastpath.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from config.fastpath import LeaderboardFastPath  # noqa: E402 - needs Django set up (above)

application = LeaderboardFastPath(django_application)
