"""The one settings module.

Every value has an embedded default that runs on a laptop with nothing else installed
(SQLite under ``var/``, the in-memory channel layer, e-mail to the console). Environment
variables point at real services; ``DJANGO_ENV=production`` switches on the deploy settings.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

PRODUCTION = env.str("DJANGO_ENV", default="development") == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _development_secret_key() -> str:
    """A per-checkout key kept in var/, so sessions survive restarts without configuration."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # no default: production must set its own
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    # daphne must precede staticfiles so that runserver serves ASGI.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "forum",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.TermsAcceptanceMiddleware",
    "accounts.middleware.StaffRequireMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.membership",
                "forum.context_processors.urls",
                "forum.context_processors.notifications",
            ],
        },
    },
]

# Forms render with the project's KERN templates (templates/django/forms/…).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "forum.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A served SQLite database needs WAL, a busy timeout and IMMEDIATE transactions so that
    # concurrent writers wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
    # ChannelsLiveServerTestCase runs the server in another process: it needs a file database.
    # SQLITE_TEST_NAME lets two test runs on one checkout use separate files.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("SQLITE_TEST_NAME", default=str(VAR_DIR / "test.sqlite3"))
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request's sync code may run in a fresh thread, so persistent per-thread
    # connections (CONN_MAX_AGE > 0) pile up until PostgreSQL refuses clients. Django's own
    # psycopg pool shares connections instead; it requires CONN_MAX_AGE = 0.
    # Server-side parameter binding lets psycopg prepare statements that repeat on a pooled
    # connection, so PostgreSQL stops re-planning the wide page queries on every request.
    _binding = env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = _binding
    if _binding:
        # Django turns psycopg's automatic preparation off unless a threshold is given.
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            # Seconds a request waits for a free connection before it fails: a little less than
            # the reverse proxy waits for an answer (nginx: 60 s). Under a burst or while a
            # worker restarts, answering late beats a server error (make bench-load).
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=55),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, falling back to a per-process memory cache while Redis is down
            # (config/cache.py says why django-redis's IGNORE_EXCEPTIONS is not enough).
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "forum",
            # Short timeouts: an unreachable Redis costs a request half a second at most,
            # and only once every few seconds per process.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No read timeout: channels-redis waits on Redis in blocking reads of a few seconds,
            # and redis-py 8 would otherwise time them out after 5 s of quiet and drop sockets.
            "CONFIG": {
                # A connect that hangs (Redis host gone) gives up after a second.
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": 1}
                ],
                "prefix": "forum:",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Posting limits (moderators are exempt) ---------------------------------------------------
FORUM_POSTS_PER_MINUTE = env.int("FORUM_POSTS_PER_MINUTE", default=5)
FORUM_HOLD_FIRST_POSTS = env.int("FORUM_HOLD_FIRST_POSTS", default=0)
FORUM_THREADS_PER_HOUR = env.int("FORUM_THREADS_PER_HOUR", default=10)

# --- Background tasks (the queue lives in the database, never in Redis) ----------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}
# Instant notification mails: at most one mail per person and thread in this many minutes; the
# events in between are gathered into one mail sent when the window ends.
FORUM_INSTANT_MAIL_WINDOW_MINUTES = env.int("FORUM_INSTANT_MAIL_WINDOW_MINUTES", default=15)

# --- E-mail -----------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Stadtumbau-Forum <forum@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[Stadtumbau-Forum] "
EMAIL_TIMEOUT = 20
# Operators who receive accessibility feedback and server errors.
ADMINS = [("Betrieb", a) for a in env.list("OPERATOR_EMAILS", default=[])]
MANAGERS = ADMINS

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "forum:home"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = EMAIL_SUBJECT_PREFIX
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Stadtumbau-Forum"
# Moderators (who must use 2FA) change their address like everyone else: the new address
# only replaces the old one once it is confirmed, and password resets go to confirmed ones.
MFA_ALLOW_UNVERIFIED_EMAIL = True

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("Englisch"))]
# Our own strings first, then the formal-address overrides of allauth's informal German.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale-overrides"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The KERN design system, installed by npm and served from here, never from a CDN.
    ("kern", BASE_DIR / "node_modules" / "@kern-ux" / "native" / "dist"),
]
if (BASE_DIR / "node_modules" / "axe-core").exists():
    # Only the browser tests use it; it is not needed to run the site.
    STATICFILES_DIRS.append(("vendor/axe-core", BASE_DIR / "node_modules" / "axe-core"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without a collectstatic run (tests, development) whitenoise serves from the finders.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Development: pick up edited CSS and JS without a restart (whitenoise otherwise keeps the
# file sizes it saw at start-up and cuts or overruns the changed files).
WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of the forum uses: denied for every page (Permissions-Policy).
PERMISSIONS_POLICY_DENY = ["camera", "microphone", "geolocation", "payment", "usb"]
if PRODUCTION:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # /healthz is probed over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Strict Content-Security-Policy: everything from this site, no inline script, no other host.
# data: images are the icon masks of the KERN stylesheet and allauth's TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

# --- Forum ------------------------------------------------------------------------------------
FORUM_NAME = env.str("FORUM_NAME", default="Stadtumbau-Forum")
# Roles that must use two-factor authentication before they may act in their role.
MFA_REQUIRED_FOR_MODERATORS = env.bool("MFA_REQUIRED_FOR_MODERATORS", default=True)
NETWORK_FILE = BASE_DIR / "data" / "network-stadtumbau-nrw.json"
INVITATION_VALID_DAYS = 30
# Retention (accounts/retention.py, manage.py retention): accounts not used for this many
# months are erased; a warning mail goes out this many days before.
FORUM_RETENTION_MONTHS = env.int("FORUM_RETENTION_MONTHS", default=24)
FORUM_RETENTION_WARNING_DAYS = env.int("FORUM_RETENTION_WARNING_DAYS", default=30)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.security": {"level": "WARNING"},
    },
}
