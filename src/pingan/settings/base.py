"""Settings shared by every deployment; everything site-specific comes from the environment.

The names are a contract (docs/architecture.md, Contracts): PINGAN_DATABASE_URL, PINGAN_DATA_DIR,
PINGAN_SECRET_KEY, PINGAN_FIELD_KEYS, PINGAN_TIME_ZONE, PINGAN_SMS_BACKEND.
"""

import os
import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Nothing is created here: production refuses a data directory that does not exist
# (settings/production.py); the demo and test settings create theirs (settings/demo.py).
DATA_DIR = Path(os.environ.get("PINGAN_DATA_DIR", Path.cwd() / "pingan-data")).resolve()

# From the environment only; the demo and test settings fall back to a file they make.
SECRET_KEY = os.environ.get("PINGAN_SECRET_KEY", "")
DEBUG = os.environ.get("PINGAN_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("PINGAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pingan.core",
    "pingan.audit",
    "pingan.accounts",
    "pingan.region",
    "pingan.registry",
    "pingan.dosing",
    "pingan.labs",
    "pingan.takehome",
    "pingan.lockbox",
    "pingan.messaging",
    "pingan.referrals",
    "pingan.services",
    "pingan.recalls",
    "pingan.inpatient",
    "pingan.indicators",
    "pingan.exchange",
    "pingan.synth",
    "pingan.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "pingan.core.middleware.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pingan.audit.middleware.AuditContextMiddleware",
    "pingan.region.middleware.AuditCentreMiddleware",
]

ROOT_URLCONF = "pingan.urls"
WSGI_APPLICATION = "pingan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pingan.accounts.context.role",
                "pingan.region.context.centre",
            ],
        },
    }
]


DATABASE_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")


def _database() -> dict:
    url = os.environ.get("PINGAN_DATABASE_URL", f"sqlite:///{DATA_DIR / 'pingan.sqlite3'}")
    try:
        db = dj_database_url.parse(url, conn_max_age=0)
    except ValueError:
        db = {}
    if db.get("ENGINE") not in DATABASE_ENGINES or not db.get("NAME"):
        # The URL itself is not repeated: it may hold the database password.
        raise ImproperlyConfigured(
            "PINGAN_DATABASE_URL is not a database Ping An can use: give sqlite:///PATH or "
            "postgres://USER:PASSWORD@HOST:PORT/NAME (special characters in the password "
            "percent-encoded)."
        )
    if db["ENGINE"] == "django.db.backends.postgresql":
        # Each server thread keeps its connection between requests (checked before reuse):
        # opening one costs the server a process, and the statements a dose runs are
        # prepared once per connection (core.prepared), so a connection per request would
        # plan them again on every dose.
        db["CONN_MAX_AGE"] = 600
        db["CONN_HEALTH_CHECKS"] = True
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while a nurse writes; IMMEDIATE takes the write lock at
        # BEGIN so two concurrent writers queue instead of failing half-way.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON;",
        }
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each process keeps the indicator sets in memory, per month and per scope (pooled and each
# centre: indicators/freshness.py); a region of 20 centres needs some 600 entries for the
# default months alone, twice what the local-memory cache keeps by default (300).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
]
# The name an authenticator app shows beside the account (django-otp's provisioning URI).
OTP_TOTP_ISSUER = "Ping An"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed sign-ins slow down further tries instead of locking anyone out
# (pingan.accounts.throttle): per scope, `free` failures in a day, then each try waits
# 2, 4, 8 … seconds after the latest failure, at most `cap` seconds.
SIGNIN_THROTTLE = {
    "account_address": {"free": 5, "cap": 15 * 60},
    "account": {"free": 5, "cap": 60},
    "address": {"free": 20, "cap": 15 * 60},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files;
# no inline <script>, no onclick="…", no style="…", no eval. A script injected into a page
# (a client's alias, a note) cannot run, and cannot send what it reads anywhere but here.
# htmx is told not to insert its indicator <style> (meta htmx-config in base.html); the
# indicator rules live in app.css instead. docs/deployment.md has the reasoning.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]


def _time_zone() -> str:
    name = os.environ.get("PINGAN_TIME_ZONE", "Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"PINGAN_TIME_ZONE={name!r} is not a time zone: give an IANA name such as "
            "Asia/Shanghai."
        ) from None
    return name


TIME_ZONE = _time_zone()
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# The project-wide assets (app.css, vendored htmx) live beside the templates, not in an app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

# Field encryption: comma-separated Fernet keys, newest first. Without the variable the key
# file below is read if it exists; only the demo and test settings may create it
# (CREATE_MISSING_KEYS), and production reads PINGAN_FIELD_KEYS alone (docs/key-rotation.md).
FIELD_KEYS_ENV = "PINGAN_FIELD_KEYS"
FIELD_KEY_FILE = DATA_DIR / "field_keys"
CREATE_MISSING_KEYS = False
# Whether `pingan check` and `pingan serve` treat loose file modes in the data directory as
# errors (production) or only warn (demo, tests).
STRICT_FILE_MODES = False

SMS_BACKEND = os.environ.get("PINGAN_SMS_BACKEND", "console")

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

PINGAN_ROLES = {
    "nurse": _("Dispensing nurse"),
    "clinician": _("Clinician"),
    "manager": _("Centre manager"),
    "cdc": _("CDC officer"),
    "police": _("Police officer"),
}
