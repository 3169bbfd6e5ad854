"""Glossa settings: every deploy-time choice comes from the environment.

The defaults are the safe ones: DEBUG off, secure cookies on outside DEBUG,
and an embedded SQLite file when no DATABASE_URL is given.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}.")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def sqlite_settings(path):
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # A write transaction takes SQLite's write lock when it begins, not at its first write: two
        # writers then queue instead of one failing midway, and a row read in a write transaction
        # (the version an edit checks) cannot change before it commits.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def database_settings(url):
    """DATABASES["default"] for a postgres:// URL or a sqlite:///path URL."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            # JIT compilation added 25 ms to searches whose estimated cost crossed its threshold, and
            # won nothing back on queries of this size.
            "OPTIONS": {"options": "-c jit=off"},
        }
    if parts.scheme == "sqlite":
        return sqlite_settings(unquote(parts.path) or BASE_DIR / "db.sqlite3")
    raise ImproperlyConfigured(f"DATABASE_URL must start with postgres:// or sqlite://, not {parts.scheme!r}.")


def site_url_setting(value, *, debug, allowed_hosts):
    """SITE_URL: the scheme and host that every absolute URL Glossa gives out names.

    Unset, it is http://127.0.0.1:8000 under DEBUG (what `make run` serves), and otherwise
    https:// and the first of ALLOWED_HOSTS when that is one host name (production answers
    on HTTPS only, see SECURE_SSL_REDIRECT); a wildcard there leaves no host to choose, so
    Glossa refuses to start rather than guess."""
    if value:
        parts = urlsplit(value)
        if (parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}
                or parts.query or parts.fragment or parts.username is not None):
            raise ImproperlyConfigured(
                f"SITE_URL must be a scheme and a host such as https://glossa.example, not {value!r}."
            )
        return f"{parts.scheme}://{parts.netloc}"
    if debug:
        return "http://127.0.0.1:8000"
    host = allowed_hosts[0] if allowed_hosts else ""
    if not host or "*" in host or host.startswith("."):
        raise ImproperlyConfigured(
            "SITE_URL is not set, and the first of ALLOWED_HOSTS is not a single host name to take it from: "
            "set SITE_URL, e.g. SITE_URL=https://glossa.example."
        )
    return f"https://{host}"


def mailers_setting(url):
    """MAILERS for an EMAIL_URL: smtp://user:password@host:port (STARTTLS unless ?tls=off, port 587 by
    default), smtps://… (TLS from the first byte, port 465), or console:// (mail printed, for development).
    """
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"EMAIL_URL must look like smtp://user:password@host:587, smtps://… or console://, not {parts.scheme!r}."
        )
    implicit_tls = parts.scheme == "smtps"
    options = {
        "host": parts.hostname,
        "port": parts.port or (465 if implicit_tls else 587),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_ssl": implicit_tls,
        "use_tls": not implicit_tls and dict(parse_qsl(parts.query)).get("tls", "on") != "off",
        # A mail server that does not answer must not hold a web worker for long.
        "timeout": 10,
    }
    return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}


DEBUG = env_flag("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or set DEBUG=1 for local development)."
        )
    # A throwaway key: sessions do not survive a restart, which is fine for development.
    SECRET_KEY = "django-insecure-" + get_random_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = site_url_setting(os.environ.get("SITE_URL", ""), debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)

INSTALLED_APPS = [
    "treaty_app.admin_site.GlossaAdminConfig",  # django.contrib.admin, with Glossa's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "simple_history",
    "treaty_app",
    "annotations",
]

MIDDLEWARE = [
    "treaty_app.timing.server_timing",
    "treaty_app.outage.database_outage",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which serves static files precompressed and returns before this; above every
    # middleware that reads or writes the body. Safe against BREACH: see treaty_app/caching.py.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "treaty_app.not_allowed.method_not_allowed",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "treaty_app.urls"
WSGI_APPLICATION = "treaty_app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if database_url := os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_settings(database_url)}
else:
    DATABASES = {"default": sqlite_settings(BASE_DIR / "db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

CACHES = {
    # Each process's own memory: pages keyed on the content version (caching.py) need no sharing.
    # Bounded in bytes: one page of a busy provision weighs as much as a thousand small ones.
    "default": {
        "BACKEND": "treaty_app.cache_backends.ByteBudgetLocMemCache",
        "OPTIONS": {"MAX_BYTES": int(os.environ.get("PAGE_CACHE_MB", "64")) * 2**20},
    },
    # Rendered public annotation cards, keyed on a digest of what they show (treaty_app/views.py):
    # room for the cards of the busiest provisions.
    "cards": {
        "BACKEND": "treaty_app.cache_backends.ByteBudgetLocMemCache",
        "LOCATION": "cards",
        "OPTIONS": {
            "MAX_ENTRIES": int(os.environ.get("CARD_CACHE_ENTRIES", "20000")),
            "MAX_BYTES": int(os.environ.get("CARD_CACHE_MB", "64")) * 2**20,
        },
    },
}

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# No EMAIL_URL, no mailer: sending fails loudly instead of appearing to work. Password reset mails a
# link, so it is offered only where mail can be sent (treaty_app/accounts.py); elsewhere a curator
# sets a new password.
MAILERS = mailers_setting(os.environ["EMAIL_URL"]) if os.environ.get("EMAIL_URL") else {}
PASSWORD_RESET_ENABLED = "default" in MAILERS
# mail.W001 says that sending without a default mailer fails: without EMAIL_URL, that is the intent.
SILENCED_SYSTEM_CHECKS = [] if PASSWORD_RESET_ENABLED else ["mail.W001"]
DEFAULT_FROM_EMAIL = os.environ.get("EMAIL_FROM", f"Glossa <noreply@{urlsplit(SITE_URL).hostname}>")

# The W3C Annotation Protocol (annotations/protocol.py): requests per minute for each API token, and the
# web origins whose pages may write through it from a browser (reads are open to every origin).
API_REQUESTS_PER_MINUTE = int(os.environ.get("API_REQUESTS_PER_MINUTE", "120"))
PROTOCOL_WRITE_ORIGINS = env_list("PROTOCOL_WRITE_ORIGINS")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotations:home"
LOGOUT_REDIRECT_URL = "/"

# Security: strict by default, relaxed only where DEBUG needs plain HTTP.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],  # the nonce: the workspace's tag colours (tag_colours.py)
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_flag("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", not DEBUG)
if env_flag("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
