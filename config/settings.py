"""Site settings, read from the environment only (12-factor).

The defaults are the embedded mode of `make run` (SQLite in WAL mode, a Celery broker on SQLite that
needs no server) with DEBUG off; production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY,
ALLOWED_HOSTS and the e-mail settings.
"""

import os
from pathlib import Path

import dj_database_url
import dj_email_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or ("insecure-development-key-only-for-debug" if DEBUG else "")
if not SECRET_KEY:
    # Embedded mode without DEBUG: keep a per-installation random key on disk rather than a known one.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our own static files
    "common",
    "conference",
    "conference.reviewing",
    "conference.cameraready",
    "challenges",
    "challenges.finalphase",
    "evaluation",
    "conference.proceedings",  # after challenges: its demo seed links the seeded challenges
    "conversion",
    "apitokens",
    "console",
]

MIDDLEWARE = [
    "config.middleware.ArrivalMiddleware",  # first: stamps request.arrived_at before the body is read
    "config.api_errors.ApiJsonErrorsMiddleware",  # every error under /api/ answered as JSON
    "config.middleware.ConcurrencyLimitMiddleware",  # then: WEB_MAX_CONCURRENT_REQUESTS per process
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# A header a trusted reverse proxy sets to the instant the request reached it (e.g. X-Request-Start);
# unset: the instant the request reached Django (config/middleware.py).
REQUEST_ARRIVAL_HEADER = os.environ.get("REQUEST_ARRIVAL_HEADER", "")
# Requests of one web process handled at once past the arrival stamp (0: as many as it has threads).
WEB_MAX_CONCURRENT_REQUESTS = int(os.environ.get("WEB_MAX_CONCURRENT_REQUESTS", "0"))

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "conference.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Seconds a web/worker thread keeps its database connection (0: one per request).
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits of allauth and of our own views) -----------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Several sites (or a benchmark) sharing one Redis database keep apart by prefix.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")
# Leaderboard pages and CSV are cached under a version bumped by every change (challenges/leaderboard_cache.py);
# this bounds how long an entry lives in any case.
LEADERBOARD_CACHE_SECONDS = int(os.environ.get("LEADERBOARD_CACHE_SECONDS", "300"))

# --- Accounts -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
SITE_ID = 1
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_ADAPTER = "conference.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "conference.forms.SignupProfileForm"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MAI] "
# Failed sign-ins (conference.adapters.AccountAdapter counts failures, never correct passwords):
# 5 per account in 5 minutes, 30 per address. Sign-in attempts of any kind: 60 a minute per address
# (allauth's default, 30, turns away part of a lab or classroom signing in together behind one NAT
# address: 20 students at once were refused with 429 now and then).
ACCOUNT_RATE_LIMITS = {"login": "60/m/ip", "login_failed": "30/5m/ip,5/5m/key", "signup": "20/m/ip"}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = os.environ.get("ACCOUNT_DEFAULT_HTTP_PROTOCOL", ACCOUNT_DEFAULT_HTTP_PROTOCOL)

# --- E-mail (sent from a Celery task through the outbox, see conference/mail.py) -----------------
if os.environ.get("EMAIL_URL"):
    _email = dj_email_url.parse(os.environ["EMAIL_URL"])
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    if _email.get("EMAIL_FILE_PATH"):
        EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MAI Workshop <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation and time ----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Private files (papers, models, ground truth) are never served directly: views check permissions
# and stream them (X-Accel-Redirect in production when PRIVATE_ACCEL_REDIRECT is set).
PRIVATE_STORAGE_ROOT = Path(os.environ.get("PRIVATE_STORAGE_ROOT", VAR_DIR / "private"))
PRIVATE_ACCEL_REDIRECT = os.environ.get("PRIVATE_ACCEL_REDIRECT", "")
# Supplementary material is anonymised for reviewers in the sandbox on first request (inside it).
SUPPLEMENTARY_TIME_LIMIT_S = float(os.environ.get("SUPPLEMENTARY_TIME_LIMIT_S", "25"))
SUPPLEMENTARY_MEMORY_MB = int(os.environ.get("SUPPLEMENTARY_MEMORY_MB", "2048"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Uploads larger than this are refused by the request parser before they are read whole; each
# upload form also checks its own, smaller limit from the Content-Length header.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(300 * 1024 * 1024)))

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A strict Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only;
# no inline scripts, styles or event handlers anywhere (tests/test_csp.py reads every template).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# --- Evaluation limits (each overridable from the environment) --------------------------------------
# Paper uploads: the PDF and the supplementary material, refused past these while streaming.
PAPER_PDF_MAX_BYTES = int(os.environ.get("PAPER_PDF_MAX_BYTES", str(50 * 1024 * 1024)))
PAPER_SUPPLEMENTARY_MAX_BYTES = int(os.environ.get("PAPER_SUPPLEMENTARY_MAX_BYTES", str(100 * 1024 * 1024)))
PAPER_PDF_MAX_PAGES = int(os.environ.get("PAPER_PDF_MAX_PAGES", "60"))
# Camera-ready PDFs (conference/cameraready): IEEE Xplore / CVF take at most 10 MB.
CAMERA_READY_PDF_MAX_BYTES = int(os.environ.get("CAMERA_READY_PDF_MAX_BYTES", str(10 * 1024 * 1024)))
EVALUATION_MAX_MODEL_BYTES = int(os.environ.get("EVALUATION_MAX_MODEL_BYTES", str(200 * 1024 * 1024)))
EVALUATION_MAX_TENSOR_BYTES = int(os.environ.get("EVALUATION_MAX_TENSOR_BYTES", str(2 * 2**30)))
EVALUATION_JOB_TIME_LIMIT_S = int(os.environ.get("EVALUATION_JOB_TIME_LIMIT_S", "120"))
EVALUATION_RATE_LIMIT = int(os.environ.get("EVALUATION_RATE_LIMIT", "30"))  # jobs per user per hour
EVALUATION_MAX_ACTIVE_JOBS = int(os.environ.get("EVALUATION_MAX_ACTIVE_JOBS", "3"))
EVALUATION_MAX_ATTEMPTS = int(os.environ.get("EVALUATION_MAX_ATTEMPTS", "3"))
EVALUATION_OFFLINE_AFTER_S = int(os.environ.get("EVALUATION_OFFLINE_AFTER_S", "45"))
EVALUATION_STUCK_GRACE_S = int(os.environ.get("EVALUATION_STUCK_GRACE_S", "120"))
EVALUATION_MODEL_URL_MAX_AGE_S = int(os.environ.get("EVALUATION_MODEL_URL_MAX_AGE_S", "600"))
# How long a device's lease (one job at a time per device) lasts without renewal by its worker.
EVALUATION_DEVICE_LEASE_S = int(os.environ.get("EVALUATION_DEVICE_LEASE_S", "60"))
# Model conversion (conversion/): upload limit, sandbox limits, samples for calibration and fidelity.
CONVERSION_MAX_UPLOAD_BYTES = int(os.environ.get("CONVERSION_MAX_UPLOAD_BYTES", str(250 * 1024 * 1024)))
CONVERSION_TIME_LIMIT_S = float(os.environ.get("CONVERSION_TIME_LIMIT_S", "600"))
CONVERSION_MEMORY_MB = int(os.environ.get("CONVERSION_MEMORY_MB", "8192"))  # address space, TF included
CONVERSION_MAX_CALIBRATION_SAMPLES = int(os.environ.get("CONVERSION_MAX_CALIBRATION_SAMPLES", "100"))
CONVERSION_FIDELITY_SAMPLES = int(os.environ.get("CONVERSION_FIDELITY_SAMPLES", "8"))
CONVERSION_MAX_ACTIVE = int(os.environ.get("CONVERSION_MAX_ACTIVE", "2"))  # queued/running per user
CONVERSION_MAX_ATTEMPTS = int(os.environ.get("CONVERSION_MAX_ATTEMPTS", "3"))
CONVERSION_STALE_GRACE_S = float(os.environ.get("CONVERSION_STALE_GRACE_S", "120"))

# --- API ------------------------------------------------------------------------------------------
# Requests per personal API token (DRF rate: "<n>/<second|minute|hour|day>").
API_TOKEN_RATE = os.environ.get("API_TOKEN_RATE", "600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apitokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apitokens.authentication.TokenScopeAllows",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["apitokens.authentication.ApiTokenRateThrottle"],  # API_TOKEN_RATE
    "DEFAULT_SCHEMA_CLASS": "config.api_errors.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MAI workshop API",
    "DESCRIPTION": "Papers, challenges and on-device model evaluation. Authenticate with "
    "`Authorization: Token <secret>` (a token made at /account/tokens/). Every error is JSON: "
    '`{"detail": "…", "code": "…"}`, with `fields` (messages per field) for invalid input.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite'}")
if CELERY_BROKER_URL.startswith("redis"):
    _default_backend = CELERY_BROKER_URL
else:
    _default_backend = f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite'}"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", _default_backend)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
    if CELERY_BROKER_URL.startswith("redis")
    else {}
)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {}  # extra entries only: apps declare theirs as AppConfig.periodic_tasks (config/beat.py)
# Beat intervals (seconds) of the periodic tasks, and the sweeps' windows: every queued/running/scoring
# state has a deadline after which a sweep re-dispatches the work, or fails it after the last attempt.
BEAT_DISPATCH_EVERY_S = float(os.environ.get("BEAT_DISPATCH_EVERY_S", "10"))  # outbox dispatcher
BEAT_SWEEP_EVERY_S = float(os.environ.get("BEAT_SWEEP_EVERY_S", "30"))  # stuck jobs / submissions
BEAT_OFFLINE_DEVICES_EVERY_S = float(os.environ.get("BEAT_OFFLINE_DEVICES_EVERY_S", "15"))
BEAT_REVIEW_REMINDERS_EVERY_S = float(os.environ.get("BEAT_REVIEW_REMINDERS_EVERY_S", "3600"))
BEAT_CAMERA_READY_REMINDERS_EVERY_S = float(os.environ.get("BEAT_CAMERA_READY_REMINDERS_EVERY_S", "3600"))
# Reviewer assignment runs (conference/reviewing/assignment_services.py): a run no worker picked up within
# the queue timeout, silent (no heartbeat) for STALE_S, or running past TIME_LIMIT_S is marked failed.
ASSIGNMENT_RUN_QUEUE_TIMEOUT_S = float(os.environ.get("ASSIGNMENT_RUN_QUEUE_TIMEOUT_S", "900"))
ASSIGNMENT_RUN_STALE_S = float(os.environ.get("ASSIGNMENT_RUN_STALE_S", "120"))
# Proceedings exports (conference/proceedings): a queued or building export silent this long is failed.
PROCEEDINGS_EXPORT_STALE_S = float(os.environ.get("PROCEEDINGS_EXPORT_STALE_S", "600"))
# Partner logos and speaker photos: upload limit (bytes) before the image is checked in the sandbox.
PROCEEDINGS_IMAGE_MAX_BYTES = int(os.environ.get("PROCEEDINGS_IMAGE_MAX_BYTES", str(5 * 1024 * 1024)))
ASSIGNMENT_RUN_TIME_LIMIT_S = float(os.environ.get("ASSIGNMENT_RUN_TIME_LIMIT_S", "3600"))
ASSIGNMENT_RUN_HEARTBEAT_S = float(os.environ.get("ASSIGNMENT_RUN_HEARTBEAT_S", "3"))
EVALUATION_QUEUED_RESEND_S = float(os.environ.get("EVALUATION_QUEUED_RESEND_S", "120"))
# A job queued on a device its operator paused waits this long (seconds since the pause, or since the
# job was queued if later), then moves to an active online twin or fails with the reason.
RUNTIME_PAUSED_MAX_WAIT_S = float(os.environ.get("RUNTIME_PAUSED_MAX_WAIT_S", str(6 * 3600)))
# Paper PDF checks: a version "Checking" this long since its last message is checked again; after
# PAPERS_CHECK_MAX_ATTEMPTS messages it is refused with a reason (conference.services.versions).
PAPERS_STALE_CHECK_S = float(os.environ.get("PAPERS_STALE_CHECK_S", "600"))
PAPERS_CHECK_MAX_ATTEMPTS = int(os.environ.get("PAPERS_CHECK_MAX_ATTEMPTS", "3"))
CHALLENGES_STALE_QUEUED_S = float(os.environ.get("CHALLENGES_STALE_QUEUED_S", "120"))
CHALLENGES_STALE_SCORING_S = float(os.environ.get("CHALLENGES_STALE_SCORING_S", "600"))
CHALLENGES_SCORING_MAX_ATTEMPTS = int(os.environ.get("CHALLENGES_SCORING_MAX_ATTEMPTS", "3"))
FINALPHASE_STALE_QUEUED_S = float(os.environ.get("FINALPHASE_STALE_QUEUED_S", "300"))
FINALPHASE_FIDELITY_GRACE_S = float(os.environ.get("FINALPHASE_FIDELITY_GRACE_S", "300"))
FINALPHASE_MAX_ATTEMPTS = int(os.environ.get("FINALPHASE_MAX_ATTEMPTS", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
