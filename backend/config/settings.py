"""BoneRead settings: every value that differs between deployments comes from the environment.

The defaults are the embedded set-up used by `make demo`: SQLite, Celery on kombu's filesystem
transport (no server), media on local disk, all under ``var/``. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS (see .env.example).
"""

from __future__ import annotations

from pathlib import Path

import environ

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent

env = environ.Env()
environ.Env.read_env(REPO_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("BONEREAD_VAR_DIR", default=str(REPO_DIR / "var"))).resolve()

DEBUG = env.bool("DEBUG", default=False)
# The fallback key is only for the embedded demo and tests; production refuses to start with it.
_INSECURE_KEY = "insecure-embedded-default-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Request bodies (uploads, STOW-RS) may be large; the archive enforces its own limits per file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024 * 1024)

# Secure by default when served over HTTPS behind a proxy; the embedded demo runs on plain http.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)

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
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "studies",
    "readerstudies",
    "reports",
    "inference",
    "audit",
    "deidentify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # API messages follow the browser language (Chinese by default).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every change made through the Django admin into the audit trail.
    "audit.middleware.AdminAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'boneread.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write concurrently: wait for the lock instead of failing,
    # and take the write lock at BEGIN so that select_for_update-style sections serialise.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # Tests start separate worker processes: the test database must be a file they can open.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-boneread.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
FRONTEND_DIST = REPO_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env.str("MEDIA_STORAGE", default="filesystem") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=None),
        },
    }
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))).resolve()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # core's handler (one error shape) + an audit event for every 401/403 (audit.handlers).
    "EXCEPTION_HANDLER": "audit.handlers.audited_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "BoneRead API",
    "DESCRIPTION": "Reading workstation for nuclear-medicine bone imaging.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from this server (no CDN): the product runs offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Shared by all web processes (login throttling); production may point it at Redis (rediscache://).
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu polls the folder (1 s by default): that wait would be most of an AI job's
        # latency (about 1 s of CPU inference), so poll every 0.1 s (a directory listing).
        "polling_interval": env.float("CELERY_POLLING_INTERVAL", default=0.1),
    }
    # kombu's filesystem transport expects its folders to exist.
    for _folder in {_broker_dir / "queue", _broker_dir / "control"}:
        _folder.mkdir(parents=True, exist_ok=True)
# Job state lives in our own tables, so no result backend is needed.
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis re-delivers an unacknowledged task after this many seconds; longer than any job.
CELERY_BROKER_TRANSPORT_OPTIONS.setdefault(
    "visibility_timeout", env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
)
# Tests run their own queue so that they never feed a demo worker on the same broker.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="boneread")
HEALTH_WORKER_PING_TIMEOUT = env.float("HEALTH_WORKER_PING_TIMEOUT", default=2.0)

# --- ML ------------------------------------------------------------------------------------
MODEL_DIR = Path(env.str("MODEL_DIR", default=str(REPO_DIR / "ml" / "checkpoints")))
MODEL_TASKS = ["planar", "spectct"]

# --- AI jobs (inference app) -----------------------------------------------------------------
# Queue a job when a study with images gets its first report version (or is signed).
INFERENCE_AUTO_RUN = env.bool("INFERENCE_AUTO_RUN", default=True)
# "cpu", "cuda" or "auto" (cuda when available); torch threads per worker process (0: the
# CPUs divided by the worker's concurrency).
INFERENCE_DEVICE = env.str("INFERENCE_DEVICE", default="cpu")
INFERENCE_TORCH_THREADS = env.int("INFERENCE_TORCH_THREADS", default=0)
# Hard time limit of one job in seconds (the soft limit is 0.9 x this).
INFERENCE_TIME_LIMIT = env.int("INFERENCE_TIME_LIMIT", default=900)
# Transient errors (database, storage) are retried this many times, backoff base x 2^n s.
INFERENCE_MAX_RETRIES = env.int("INFERENCE_MAX_RETRIES", default=3)
INFERENCE_RETRY_BACKOFF = env.int("INFERENCE_RETRY_BACKOFF", default=5)
# A job is given up after this many attempts (workers killed under it, retries).
INFERENCE_MAX_ATTEMPTS = env.int("INFERENCE_MAX_ATTEMPTS", default=4)
# A running job's worker beats every HEARTBEAT s; without a beat for LEASE s the worker is
# presumed dead and the job re-queued by the recovery loop (every RECOVER_INTERVAL s in each
# worker; 0 turns it off). Queued jobs not started within REQUEUE_AFTER s are sent again.
INFERENCE_HEARTBEAT_SECONDS = env.float("INFERENCE_HEARTBEAT_SECONDS", default=10.0)
INFERENCE_LEASE_SECONDS = env.float("INFERENCE_LEASE_SECONDS", default=60.0)
INFERENCE_RECOVER_INTERVAL = env.float("INFERENCE_RECOVER_INTERVAL", default=30.0)
INFERENCE_REQUEUE_AFTER = env.float("INFERENCE_REQUEUE_AFTER", default=1800.0)
# Tests only: a running job waits before predicting while this file exists.
INFERENCE_TEST_PAUSE_FILE = env.str("INFERENCE_TEST_PAUSE_FILE", default="")

# --- DICOM archive (studies app) -------------------------------------------------------------
# Per-instance and per-request limits of every ingest path (REST upload, STOW-RS, C-STORE).
ARCHIVE_MAX_INSTANCE_SIZE = env.int("ARCHIVE_MAX_INSTANCE_SIZE", default=1024 * 1024 * 1024)
ARCHIVE_MAX_REQUEST_SIZE = env.int("ARCHIVE_MAX_REQUEST_SIZE", default=4 * 1024 * 1024 * 1024)
# Zip uploads: at most this many members, this many bytes unpacked, this compression ratio.
ARCHIVE_ZIP_MAX_MEMBERS = env.int("ARCHIVE_ZIP_MAX_MEMBERS", default=20000)
ARCHIVE_ZIP_MAX_UNCOMPRESSED = env.int(
    "ARCHIVE_ZIP_MAX_UNCOMPRESSED", default=8 * 1024 * 1024 * 1024
)
ARCHIVE_ZIP_MAX_RATIO = env.int("ARCHIVE_ZIP_MAX_RATIO", default=1000)
# Audit trail: one "study.view" event per user and case within this many seconds.
AUDIT_VIEW_WINDOW_SECONDS = env.int("AUDIT_VIEW_WINDOW_SECONDS", default=900)

# The C-STORE receiver (`manage.py dicom_scp`): its AE title and port unless given on the line.
DICOM_SCP_AE_TITLE = env.str("DICOM_SCP_AE_TITLE", default="BONEREAD")
DICOM_SCP_PORT = env.int("DICOM_SCP_PORT", default=11112)
# Calling AE titles the receiver accepts (comma-separated); empty: any (docs/security.md).
DICOM_SCP_ALLOWED_CALLING_AETS = env.list("DICOM_SCP_ALLOWED_CALLING_AETS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG and SECRET_KEY == _INSECURE_KEY and env.bool("PRODUCTION", default=False):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set in production (PRODUCTION=true).")
