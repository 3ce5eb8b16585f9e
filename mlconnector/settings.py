"""All settings for ml-connector, read from the environment (or a `.env` file). No logic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from mlconnector.devkeys import dev_secret

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Production is the default: DEBUG must be switched on explicitly (make run does).
DEBUG = env.bool("DEBUG", default=False)


def _secret(name: str) -> str:
    """A secret from NAME, NAME_FILE, or (development only) a generated value kept in var/."""
    value = env.str(name, default="")
    path = env.str(f"{name}_FILE", default="")
    if not value and path:
        value = Path(path).read_text().strip()
    if value:
        return value
    if DEBUG:
        return dev_secret(BASE_DIR / "var", name)
    raise ImproperlyConfigured(
        f"{name} is not set. Production refuses to start without it (set DEBUG=true for development)."
    )


SECRET_KEY = _secret("SECRET_KEY")
# Fernet key (urlsafe base64, 32 bytes) for OAuth tokens at rest. See integrations/crypto.py.
FIELD_ENCRYPTION_KEY = _secret("FIELD_ENCRYPTION_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",  # failed-login lockout (see "Admin accounts" below)
    "django_otp",  # second factor for staff
    "django_otp.plugins.otp_totp",
    "audit",
    "integrations",
    "mappings",
    "mlconnector",  # the project's own system checks (mlconnector/checks.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "mlconnector.two_factor.AdminTwoFactorMiddleware",  # ADMIN_REQUIRE_2FA
    "django.contrib.messages.middleware.MessageMiddleware",
    "audit.acting.ActingUserMiddleware",  # audit events name the signed-in person
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "mlconnector.urls"
WSGI_APPLICATION = "mlconnector.wsgi.application"

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
                "mlconnector.context_processors.integrations_mode",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
# On PostgreSQL a process keeps its connection (CONN_MAX_AGE unset: for ever), checked once a
# request before it is used, so a database restart costs no request. A connection per request
# costs the server a process start per webhook, and a maximum age has every gunicorn worker
# reconnect in the middle of whatever load is running when it runs out.
DATABASES["default"].setdefault(
    "CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0 if SQLITE else None)
)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", not SQLITE)
if SQLITE:
    # Several processes (web, qcluster) share the file: wait for locks instead of failing at
    # once, and take the write lock when a transaction starts (a deferred transaction that
    # upgrades later fails with "database is locked" without waiting).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("timeout", 20)
    options.setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Admin accounts: the admin holds the keys to a company's books.
# Failed logins lock out per combination of user name and client address (django-axes):
# the 6th attempt is refused, even with the right password, until the cool-off ends.
# Reference: https://django-axes.readthedocs.io/en/latest/4_configuration.html
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "mlconnector.client_ip.client_ip"
# Behind N reverse proxies that append to X-Forwarded-For, the client is the Nth address from
# the right; 0 (default) uses the connecting address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Second factor (TOTP, django-otp): when on, a staff session must be verified with an
# authenticator code before any page but login, logout and the two-factor page itself.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="ml-connector")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the device admin never shows a TOTP secret or QR code
# --- end admin accounts

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Security: safe by default; relaxed only when DEBUG is on (local development). Each can be
# set on its own; README "Running in production" says which to turn off for plain HTTP.
# Behind an HTTPS proxy that sets X-Forwarded-Proto (and overwrites what clients send);
# TRUST_X_FORWARDED_PROTO=False when clients reach gunicorn directly.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("TRUST_X_FORWARDED_PROTO", default=True)
    else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Webhook bodies are small; anything larger is refused before parsing.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)

# Background jobs: django-q2 on the ORM broker. Retry/dead-letter state lives on our own rows
# (WebhookEvent.attempts/next_attempt_at), so broker retries are a backstop only.
Q_CLUSTER = {
    "name": "mlconnector",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=300),  # longest job: one poll page batch
    "retry": env.int("Q_TIMEOUT", default=300) + 60,  # must exceed timeout
    "max_attempts": 3,
    "catch_up": False,  # the polling cursor already catches up after downtime
    "save_limit": 1000,
    "poll": env.float("Q_POLL", default=0.5),
    "ack_failures": True,
}
# The qcluster runs below the web server's CPU priority (run_stack, the benchmark, the README's
# recipe: `nice -n 10`): Exact's webhook is answered at once, a job can wait a moment.
QCLUSTER_NICENESS = env.int("QCLUSTER_NICENESS", default=10)

# --- Broker: the database (default, nothing else to run) or Redis for workers on many machines.
# django-q2 uses the ORM broker whenever "orm" is set, so Redis replaces it rather than adding.
# Results, schedules and our own state (inbox, cursors, budgets) stay in the database either way.
Q_BROKER = env.str("Q_BROKER", default="orm")
if Q_BROKER == "redis":
    REDIS_URL = env.str("REDIS_URL", default="")
    if not REDIS_URL:
        raise ImproperlyConfigured(
            "Q_BROKER=redis needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
        )
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL
elif Q_BROKER != "orm":
    raise ImproperlyConfigured("Q_BROKER must be orm (the database) or redis.")
# --- end broker

# --- Metrics: /metrics answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>` (or a
# staff member signed in to the admin); without a token set it is off for everyone else (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# --- end metrics

# --- Retention: the daily "retention" job deletes done (and ignored) webhook events and
# django-q task results older than this. Dead or waiting events and the audit trail stay.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
# --- end retention

# --- Alert emails (integrations/sync/alerts.py): to administrators when a connection needs
# re-authorization or its tokens near Exact's 30-day idle expiry and when webhook events go
# dead; a daily digest of newly flagged items to the finance reviewers. Links in them start with
# PUBLIC_BASE_URL. EMAIL_URL (django-environ): smtp+tls://user:password@host:587, or
# consolemail:// (printed to the console: the development default).
# Reference: https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
globals().update(EMAIL_CONFIG)  # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, ...
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ml-connector <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[ml-connector] "
EMAIL_TIMEOUT = 20  # seconds: an unreachable mail server never holds a worker for long
# --- end alert emails

# Integrations: "sandbox" talks to the local emulations, "live" to the real APIs.
# "auto" picks sandbox when no Exact Online client id is configured and DEBUG is on.
# Exact Online
EXACT_BASE_URL = env.str("EXACT_BASE_URL", default="https://start.exactonline.nl").rstrip("/")
EXACT_CLIENT_ID = env.str("EXACT_CLIENT_ID", default="")
EXACT_CLIENT_SECRET = env.str("EXACT_CLIENT_SECRET", default="")
EXACT_WEBHOOK_SECRET = env.str("EXACT_WEBHOOK_SECRET", default="")
# Monday.com
MONDAY_API_URL = env.str("MONDAY_API_URL", default="https://api.monday.com/v2")
MONDAY_AUTH_URL = env.str("MONDAY_AUTH_URL", default="https://auth.monday.com")
MONDAY_CLIENT_ID = env.str("MONDAY_CLIENT_ID", default="")
MONDAY_CLIENT_SECRET = env.str("MONDAY_CLIENT_SECRET", default="")
# Monday.com's daily call limit of the account's plan (Basic/Standard 1,000, Pro 10,000,
# Enterprise 25,000 by support.monday.com): every process stops for the day when it is spent.
# Off (None) by default: Monday's own DAILY_LIMIT_EXCEEDED answer stops them too.
MONDAY_DAILY_CALL_LIMIT = env.int("MONDAY_DAILY_CALL_LIMIT", default=None)

# What was asked for ("auto" when unset); INTEGRATIONS_MODE below is what it resolved to.
INTEGRATIONS_MODE_REQUESTED = env.str("INTEGRATIONS_MODE", default="") or "auto"
if INTEGRATIONS_MODE_REQUESTED not in ("auto", "live", "sandbox"):
    raise ImproperlyConfigured("INTEGRATIONS_MODE must be auto, live or sandbox.")
INTEGRATIONS_MODE = INTEGRATIONS_MODE_REQUESTED
if INTEGRATIONS_MODE == "auto":
    # Only development guesses the sandbox. Production without a client id resolves to live
    # (so nothing ever talks to a sandbox) and refuses to start: mlconnector/checks.py E001.
    INTEGRATIONS_MODE = "live" if EXACT_CLIENT_ID or not DEBUG else "sandbox"
# Where the sandbox emulations are served in sandbox mode (python manage.py run_sandbox).
SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8001").rstrip("/")
if INTEGRATIONS_MODE == "sandbox":
    EXACT_CLIENT_ID = EXACT_CLIENT_ID or "sandbox-client"
    EXACT_CLIENT_SECRET = EXACT_CLIENT_SECRET or "sandbox-secret"
if INTEGRATIONS_MODE_REQUESTED == "sandbox":
    # The sandbox's webhook secret is public (it is in this repository): only an explicit
    # sandbox mode gets it, and the webhook view refuses it otherwise (exact/webhooks.py).
    EXACT_WEBHOOK_SECRET = EXACT_WEBHOOK_SECRET or "sandbox-webhook-secret"

# --- Error reporting: optional; nothing is sent anywhere unless SENTRY_DSN is set.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from mlconnector.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )
# --- end error reporting

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# --- Log format: plain text (default) or json, one object per line for a log shipper:
# {"time", "level", "logger", "event" (the stable event name), "correlation_id" (the webhook
# event or poll in hand, when there is one), ...extras}. Redaction applies in both.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
# --- end log format
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "audit.redaction.RedactingFilter"},
        "correlation": {"()": "audit.correlation.CorrelationFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "mlconnector.logs.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "message": "event",
            },
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact", "correlation"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-q2 adds a plain handler of its own unless its logger already has one.
        "django-q": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
