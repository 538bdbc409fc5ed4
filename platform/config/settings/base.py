"""Base settings, also the embedded default: SQLite and in-process (eager) Celery tasks.

Everything that differs between machines comes from environment variables
(django-environ). With nothing set, tiebreak runs on SQLite in ``db.sqlite3`` and
executes Celery tasks in-process; with ``DATABASE_URL`` / ``CELERY_BROKER_URL`` it uses
PostgreSQL (psycopg 3) and Redis.
"""

from pathlib import Path

import environ

# Pure Python, no Django: the built-in extractors' dotted paths live with the registry.
from analysis.features.registry import DEFAULT_EXTRACTORS

BASE_DIR = Path(__file__).resolve().parents[3]

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Only for the embedded default on a developer's machine; production refuses this value.
SECRET_KEY = env("SECRET_KEY", default="insecure-embedded-default-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_celery_beat",
    "annotation",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing with "database is locked" when a worker thread
    # and a request write at once; IMMEDIATE makes every transaction take the write lock
    # up front, which is what serialises assignment on SQLite.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Uploads of large import files stream to disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- Security headers (all environments; production tightens cookies and TLS) -------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Model output is untrusted input rendered on our pages: no inline script, ever.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tiebreak API",
    "DESCRIPTION": "Pairwise preference annotation and style-bias analysis.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status" field with its own choices; name each enum.
    "ENUM_NAME_OVERRIDES": {
        "ImportRunStatusEnum": "annotation.models.ImportRun.Status",
        "JobStatusEnum": "analysis.models.JobStatus",
        "ExportKindEnum": "analysis.models.ExportKind",
        "ExportFormatEnum": "analysis.models.ExportFormat",
    },
}

# --- Celery ------------------------------------------------------------------------------
# No broker configured: run tasks in-process so the embedded default needs no services.
# The in-memory transport stands in for the broker then, so nothing looks for an AMQP host.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not env("CELERY_BROKER_URL", default="")
)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Idempotent tasks acknowledge late, so a killed worker's chunk is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
# A chunk takes seconds; an unacknowledged message is redelivered after this long.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}
# Beat reads its schedule from the database (django-celery-beat), so the weekly reports'
# times are editable in the admin; each project gets its own periodic task.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- email -------------------------------------------------------------------------------
# Weekly reports are emailed to the project's researchers. Without EMAIL_URL they are
# printed to the console; set e.g. EMAIL_URL=smtp+tls://user:pass@smtp.example.org:587.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="tiebreak <tiebreak@localhost>")
# Where the site is reached, for links in emails (a task has no request to build them from).
TIEBREAK_SITE_URL = env("TIEBREAK_SITE_URL", default="http://127.0.0.1:8000")

# --- tiebreak ----------------------------------------------------------------------------
# Dotted paths of the style feature extractors: the built-ins (analysis.features.length,
# .emojis, .flattery, .agreement, .markdown, .tone); append your own (docs/features.md).
TIEBREAK_FEATURE_EXTRACTORS = env.list(
    "TIEBREAK_FEATURE_EXTRACTORS", default=list(DEFAULT_EXTRACTORS)
)
# Style features an analysis uses when the run does not name any: one column per concept.
# The extractors also emit near-duplicates (length.chars / length.tokens ~ length.words,
# flattery.rate ~ flattery.count) that would split one effect between unstable
# coefficients. Features the project does not have are skipped with a warning; a run's
# "features" (or `analyze --features`) overrides this, and "all" means every feature.
TIEBREAK_ANALYSIS_FEATURES = env.list(
    "TIEBREAK_ANALYSIS_FEATURES",
    default=[
        "length.words",
        "emojis",
        "flattery.count",
        "agreement",
        "markdown.headers",
        "markdown.bold",
        "markdown.list_items",
        "tone.exclamations",
        "tone.hedges",
        "tone.confident",
        "tone.apologies",
        "tone.refusals",
    ],
)
TIEBREAK_FEATURE_CHUNK_SIZE = env.int("TIEBREAK_FEATURE_CHUNK_SIZE", default=1000)
TIEBREAK_RESERVATION_MINUTES = env.int("TIEBREAK_RESERVATION_MINUTES", default=30)
# Uploads larger than this are imported in the background by a Celery task (the request
# would time out: bench/bench_import.py imports 1M comparisons of ~2.4 KB in ~2.5 min).
TIEBREAK_IMPORT_INLINE_MAX_BYTES = env.int(
    "TIEBREAK_IMPORT_INLINE_MAX_BYTES", default=10 * 1024 * 1024
)

# Exports of more judgments than this run as a Celery job with progress; smaller ones are
# written while the request waits.
TIEBREAK_EXPORT_INLINE_MAX_ROWS = env.int("TIEBREAK_EXPORT_INLINE_MAX_ROWS", default=50_000)
# The key behind exports' pseudonymous annotator ids (HMAC-SHA256 of the annotator's name):
# stable across exports while it stays the same. Defaults to one derived from SECRET_KEY.
TIEBREAK_PSEUDONYM_KEY = env("TIEBREAK_PSEUDONYM_KEY", default="")
# Features that mean "more style" in exports' style-heavier vote (docs/exports.md): the
# response higher on more of them is the style-heavier one. Hedges, apologies and refusals
# are left out: more of them is not the flattering, confident style that wins ties.
TIEBREAK_STYLE_HEAVY_FEATURES = env.list(
    "TIEBREAK_STYLE_HEAVY_FEATURES",
    default=[
        f
        for f in TIEBREAK_ANALYSIS_FEATURES
        if f not in ("tone.hedges", "tone.apologies", "tone.refusals")
    ],
)
# When the weekly report runs, in each project's own time zone (Project.time_zone):
# Monday 06:00 by default. Editable per project in the admin (Periodic tasks).
TIEBREAK_WEEKLY_REPORT_CRONTAB = {"minute": "0", "hour": "6", "day_of_week": "1"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # In-process (eager) tasks would print a "Task ... succeeded" line per chunk into the
    # output of commands such as extract_features and seed_demo; a worker keeps them.
    "loggers": {"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {},
}
