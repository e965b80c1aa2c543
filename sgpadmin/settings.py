"""Django settings, read from the environment.

SGPADMIN_MODE selects the defaults: ``production`` (the default: SECRET_KEY required,
debug off), ``demo`` (embedded defaults, debug on) or ``test``. Every value can be
overridden from the environment; see docs/configuration.md.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from .env import ConfigurationError, env_bool, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SGPADMIN_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_str("SGPADMIN_MODE", "production")
if MODE not in {"production", "demo", "test"}:
    raise ConfigurationError(f"SGPADMIN_MODE={MODE!r}: use production, demo or test")
EMBEDDED = MODE in {"demo", "test"}

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not EMBEDDED:
        raise ConfigurationError("SECRET_KEY is required outside the demo and the tests")
    SECRET_KEY = f"sgpadmin-{MODE}-insecure-key-not-for-production"

DEBUG = env_bool("DEBUG", MODE == "demo")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if EMBEDDED else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies (an ingress, a load balancer) whose X-Forwarded-For is believed when they
# are the peer: the client's address is then the last hop they did not add. Token CIDR
# checks and the authentication log use it (apps.accounts.addresses).
TRUSTED_PROXIES = env_networks("SGPADMIN_TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.policies",
    "apps.inventory",
    "apps.controller",
    "apps.webhooks",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "sgpadmin.urls"
WSGI_APPLICATION = "sgpadmin.wsgi.application"
ASGI_APPLICATION = "sgpadmin.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sgpadmin.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, workers, watcher) share the demo database file: a writer waits
    # up to 30 s for another's lock, and takes the lock when its transaction begins, so that
    # two transactions that read and then write cannot deadlock (SQLite would fail one at
    # once, without waiting).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    )
    if MODE == "test":
        # A file, not Django's default shared-cache memory database: the tests run the
        # watcher, workers and servers in threads, and shared-cache table locks fail a
        # reader at once ("database table is locked") where a file's locks wait.
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
if MODE == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "collected-static"

# Request bodies above this size are refused with 400 (API, webhooks, node reports).
SGPADMIN_MAX_BODY_BYTES = env_int("SGPADMIN_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = SGPADMIN_MAX_BODY_BYTES
# How long the answer to a POST with an Idempotency-Key is kept for replay.
SGPADMIN_IDEMPOTENCY_TTL_SECONDS = env_int("SGPADMIN_IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
# When set, /metrics answers only to "Authorization: Bearer <this>".
SGPADMIN_METRICS_TOKEN = env_str("SGPADMIN_METRICS_TOKEN")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.ScopedPermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "sgpadmin API",
    "DESCRIPTION": "Security groups for pods: policies, inventory, audit.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Celery: Redis when REDIS_URL is set, otherwise a broker that needs no server
# (kombu's filesystem transport under VAR_DIR).
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    # Every process (web sending, worker consuming) finds the broker's folders and the
    # result store's directory in place, whichever starts first.
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Policy sync to the clusters: push each change when it commits (off in unit tests, which
# call the sync directly), and what to do with an out-of-band edit: restore or adopt.
SGPADMIN_SYNC_POLICIES_ON_SAVE = env_bool("SGPADMIN_SYNC_POLICIES_ON_SAVE", MODE != "test")
SGPADMIN_POLICY_DRIFT_MODE = env_str("SGPADMIN_POLICY_DRIFT_MODE", "restore")
if SGPADMIN_POLICY_DRIFT_MODE not in {"restore", "adopt"}:
    raise ConfigurationError("SGPADMIN_POLICY_DRIFT_MODE must be restore or adopt")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}

if not EMBEDDED:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
