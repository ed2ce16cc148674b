"""Test-run defaults, loaded as a plugin (-p tests.env_defaults) before pytest-django reads the settings:
a plain-HTTP test server, the real PostgreSQL and Redis of this machine unless the environment says
otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "http")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "VAR_DIR" not in os.environ:
    import tempfile

    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="mai-test-var-")
