"""Test settings: production behaviour with fast password hashing and throwaway data."""

import os
import tempfile

# Each test process gets its own data directory (keys, secret, SQLite file), so several
# test runs on one machine never share state.
os.environ.setdefault("PINGAN_DATA_DIR", tempfile.mkdtemp(prefix="pingan-test-"))

from .base import *  # noqa: E402, F403
from .base import DATA_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_FAILURE_LIMIT = 5

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's shared in-memory default: concurrency tests need SQLite's real
    # locking, and WAL needs a file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
