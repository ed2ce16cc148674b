"""Operational endpoints that belong to no app: the health check."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from kombu import Connection


def healthz(request):
    """Checks the database and the broker; 200 when both answer, 503 otherwise."""
    checks: dict[str, str] = {}
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        # A fresh connection, not the pooled one, so a broker that went away is noticed at once.
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    checks["status"] = "ok" if healthy else "error"
    checks["elapsed_ms"] = f"{(time.monotonic() - started) * 1000:.0f}"
    return JsonResponse(checks, status=200 if healthy else 503)
