"""blogsite settings: one module, configured by the environment (see .env.example)."""

import base64
import hashlib
import os
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the .env file.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "The SECRET_KEY environment variable is required when DEBUG is off. "
            "Set SECRET_KEY (e.g. in .env), or set DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="blogsite")
SITE_DESCRIPTION = env.str(
    "SITE_DESCRIPTION", default="Essays and tutorials on software, written by people who build it."
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

ROOT_URLCONF = "blogsite.urls"
WSGI_APPLICATION = "blogsite.wsgi.application"
ASGI_APPLICATION = "blogsite.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin, with the two-factor admin site (accounts/two_factor.py).
    "accounts.admin_config.TwoFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.syndication",
    "django.contrib.postgres",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "posts",
]

MIDDLEWARE = [
    # Outermost, so its line covers every response, cache hits and errors included.
    "core.requestlog.RequestLogMiddleware",
    # Next, so a cache hit is answered before anything else runs.
    "core.cache.middleware.PageCacheMiddleware",
    # Before anything reads a body: an oversized one is a 413 straight away.
    "core.limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # Innermost: turns a 404 for an imported site's old path into a 301.
    "posts.middleware.PathRedirectMiddleware",
]

# Reader pages are Jinja2 (environment in blogsite/jinja2.py): rendering was most
# of an uncached page's CPU under Django's engine. The admin keeps Django
# templates (templates/admin/, and the apps'). Both engines read templates/;
# Jinja2 is tried first and its loader leaves every admin/ name to Django's.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "blogsite.jinja2.environment",
            # `request`, `csrf_input` and `csrf_token` come from the backend itself.
            "context_processors": ["posts.context_processors.site"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "posts.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: no "database is locked" under several gunicorn workers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so a second process (a test's subprocess) sees the same
    # data; one per test run, so parallel runs do not share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"blogsite-test-{os.getpid()}.sqlite3")
    }
else:
    # Persistent connections, checked before reuse, rather than psycopg's pool:
    # gunicorn's sync workers run one request at a time, so a pool per process
    # would hold one connection anyway (docs/operations.md, Database connections).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, checking a reused connection without a `SELECT 1`.
        DATABASES["default"]["ENGINE"] = "core.db.postgresql"
    if env.bool("PGBOUNCER", default=False):
        # PgBouncer in transaction mode hands each transaction a different server
        # connection: named cursors and prepared statements would not be there.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

# --- Cache ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Redis behind Sentinel: "host:port,host:port" of the sentinels and the name they
# monitor; the cache then follows the current primary (REDIS_URL is not used).
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_SERVICE = env.str("REDIS_SENTINEL_SERVICE", default="blogsite")
REDIS_DB = env.int("REDIS_DB", default=0)
CACHE_TTL = env.int("CACHE_TTL", default=600)
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="blogsite")
_REDIS_OPTIONS = {
    "CLIENT_CLASS": "django_redis.client.DefaultClient",
    "PARSER_CLASS": "redis.connection._HiredisParser",
    # A Redis outage degrades to uncached pages, never an error page.
    "IGNORE_EXCEPTIONS": True,
    "SOCKET_CONNECT_TIMEOUT": 0.5,
    "SOCKET_TIMEOUT": 0.5,
}
if REDIS_SENTINELS:

    def _sentinel(value: str) -> tuple[str, int]:
        host, sep, port = value.strip().rpartition(":")
        if not sep or not port.isdigit():
            raise ImproperlyConfigured(f"REDIS_SENTINELS: expected host:port, got {value!r}")
        return host, int(port)

    DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://{REDIS_SENTINEL_SERVICE}/{REDIS_DB}",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": CACHE_TTL,
            "OPTIONS": {
                **_REDIS_OPTIONS,
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_POOL_CLASS": "redis.sentinel.SentinelConnectionPool",
                "SENTINELS": [_sentinel(s) for s in REDIS_SENTINELS],
                "SENTINEL_KWARGS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
            },
        }
    }
elif REDIS_URL:
    from core.cache.breaker import BreakerConnection

    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": CACHE_TTL,
            "OPTIONS": {
                **_REDIS_OPTIONS,
                # A hung Redis costs a request one timeout, not one per command.
                "CONNECTION_POOL_KWARGS": {"connection_class": BreakerConnection},
            },
        }
    }
else:
    # locmem is per process: gunicorn workers would serve each other's stale pages.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("FILE_CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": CACHE_TTL,
        }
    }
if CACHES["default"]["BACKEND"].startswith("django_redis."):
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)
# Each worker keeps copies of the pages it serves most, up to this many MiB, and
# answers their hits without asking Redis; every write drops them, in every
# worker, before it returns (core/cache/near.py). 0: every hit asks Redis.
PAGE_CACHE_NEAR_MB = env.int("PAGE_CACHE_NEAR_MB", default=8)
# The only query parameters a page-cache key may hold (each view narrows them
# with `cache_query_params`): tracking tags and cache busters share one entry.
PAGE_CACHE_QUERY_PARAMS = env.list("PAGE_CACHE_QUERY_PARAMS", default=["page", "q", "p"])
# Cached pages expire by themselves when the next scheduled post goes live.
PAGE_CACHE_TTL_CAP = "posts.selectors.seconds_until_next_scheduled_post"
# How long a CDN may serve a page while it revalidates in the background.
CACHE_STALE_WHILE_REVALIDATE = env.int("CACHE_STALE_WHILE_REVALIDATE", default=30)

# --- Edge caches and CDNs (core/cache/edge.py) ----------------------------------
# Every invalidation also purges the same tags here. Varnish nodes running
# deploy/varnish/default.vcl, comma separated; empty means no edge.
EDGE_PURGE_URLS = env.list("EDGE_PURGE_URLS", default=[])
for _url in EDGE_PURGE_URLS:
    if not _url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"EDGE_PURGE_URLS: expected http(s) base URLs, got {_url!r}")
# Per purge request; one retry. An edge that misses a purge keeps the page for
# at most its s-maxage (CACHE_TTL, or less before a scheduled post goes live).
EDGE_PURGE_TIMEOUT = env.float("EDGE_PURGE_TIMEOUT", default=0.5)
FASTLY_SERVICE_ID = env.str("FASTLY_SERVICE_ID", default="")
FASTLY_API_TOKEN = env.str("FASTLY_API_TOKEN", default="")
FASTLY_API_URL = env.str("FASTLY_API_URL", default="https://api.fastly.com")
CLOUDFLARE_ZONE_ID = env.str("CLOUDFLARE_ZONE_ID", default="")
CLOUDFLARE_API_TOKEN = env.str("CLOUDFLARE_API_TOKEN", default="")
CLOUDFLARE_API_URL = env.str("CLOUDFLARE_API_URL", default="https://api.cloudflare.com/client/v4")
CLOUDFLARE_TAGS_PER_REQUEST = env.int("CLOUDFLARE_TAGS_PER_REQUEST", default=100)

# --- Auth and security ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},  # accounts here can publish to the world
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A readable 429 page (with Retry-After) instead of axes' one-line message.
AXES_LOCKOUT_CALLABLE = "core.limits.locked_out"

# Two-factor admin sign-in (django-otp TOTP, accounts/two_factor.py): optional for
# everyone; with REQUIRE_2FA_FOR_EDITORS, editors must enrol before the admin opens.
REQUIRE_2FA_FOR_EDITORS = env.bool("REQUIRE_2FA_FOR_EDITORS", default=False)
OTP_TOTP_ISSUER = SITE_NAME

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SITE_URL.startswith("https://"))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
HTTPS = SITE_URL.startswith("https://")
# Over HTTPS the cookies are Secure and carry the __Host- prefix (browsers then
# refuse them from plain HTTP or a subdomain). The page cache reads the names
# from these settings, so renaming them is safe.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True  # no script here reads them
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _csp_hash(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return f"'sha256-{digest}'"


# The only inline styles anywhere, allowed by hash (no 'unsafe-inline'): table-cell
# alignment in post bodies (the sanitiser keeps text-align alone, written like
# this) and one attribute in django-simple-history's admin history page.
ALLOWED_STYLE_ATTRIBUTES = [
    "text-align:left",
    "text-align:right",
    "text-align:center",
    "",  # what the sanitiser leaves of any other style
    "border-top: 0",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-hashes'", *map(_csp_hash, ALLOWED_STYLE_ATTRIBUTES)],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Authoring (posts/admin.py, posts/sharing.py) ---------------------------
# How long a shared draft-preview link works, in seconds (7 days).
PREVIEW_LINK_MAX_AGE = env.int("PREVIEW_LINK_MAX_AGE", default=7 * 24 * 3600)
# Seconds an editor counts as "also editing" after their last ping.
EDIT_PRESENCE_TTL = env.int("EDIT_PRESENCE_TTL", default=60)

# --- Abuse limits (core/limits.py) -------------------------------------------
# Searches that reach the database, per client IP, counted in the default cache
# (Redis; django-ratelimit). "30/m" = 30 a minute; over that is a 429 with Retry-After.
SEARCH_RATE_LIMIT = env.str("SEARCH_RATE_LIMIT", default="30/m")
# The client's address: REMOTE_ADDR, or the header a trusted proxy sets.
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
# A Redis outage lets searches through rather than refusing everyone.
RATELIMIT_FAIL_OPEN = True

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Uploads (covers, avatars, body images and their renditions) go to MEDIA_ROOT, or
# to an S3-compatible bucket (AWS S3, MinIO, R2, …) through django-storages when one
# is named. Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY in the environment, an instance role, ~/.aws).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            # Plain URLs: cached pages outlive signed ones. Make the bucket (or the
            # CDN in front of it) publicly readable.
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "default_acl": env.str("AWS_DEFAULT_ACL", default="") or None,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not AWS_STORAGE_BUCKET_NAME)
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # form fields, files excluded
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_IMAGE_UPLOAD_BYTES = env.int("MAX_IMAGE_UPLOAD_BYTES", default=5 * 1024 * 1024)
# A whole request body (a post form with a cover image, say); larger is a 413.
REQUEST_BODY_MAX_BYTES = env.int(
    "REQUEST_BODY_MAX_BYTES", default=2 * MAX_IMAGE_UPLOAD_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
)

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------
# json: one JSON object per line (production, log shippers); text: for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
_JSON = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": "time",
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": _JSON,
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # The request line (core.requestlog): its fields, in a fixed order.
        "request_json": {"()": "core.requestlog.JSONFormatter"},
        "request": {
            "format": "%(asctime)s %(method)s %(path)s %(status)s %(duration_ms).1fms "
            "cache=%(cache)s bytes=%(bytes)s user=%(user_id)s id=%(request_id)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        },
        # stdout, where gunicorn's access log used to go.
        "requests": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "request_json" if LOG_FORMAT == "json" else "request",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "blogsite.request": {
            "handlers": ["requests"],
            "level": env.str("REQUEST_LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
