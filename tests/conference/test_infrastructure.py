"""Health check, deploy settings, and mail through a real Celery worker on Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conference.mail import mail_enqueue, mail_send
from conference.models import OutgoingMail
from config.celery import ping
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_a_dead_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECURE_SSL_REDIRECT", "SECURE_COOKIES", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "SECRET_KEY": "x" * 60 + "prod-like-key-!@#$%^&*()",
            "ALLOWED_HOSTS": "mai.example.org",
            "VAR_DIR": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_is_off_unless_asked(settings):
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_mail_send_is_idempotent(mailoutbox):
    mail = OutgoingMail.objects.create(to=["a@example.org"], subject="Hello", body="Body")
    mail_send(mail_id=mail.pk)
    mail_send(mail_id=mail.pk)
    assert len(mailoutbox) == 1
    mail.refresh_from_db()
    assert mail.state == OutgoingMail.State.SENT and mail.sent_at


@pytest.mark.django_db(transaction=True)
def test_mail_is_sent_by_a_real_worker_process(celery_worker):
    mail = mail_enqueue(to=["worker@example.org"], subject="Through Redis", body="Sent by a worker process.")
    wait_for(lambda: OutgoingMail.objects.get(pk=mail.pk).state == OutgoingMail.State.SENT, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_celery_round_trip_through_redis(celery_worker):
    assert ping.delay("round trip").get(timeout=30) == "round trip"
