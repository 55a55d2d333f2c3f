"""Test settings: the demo's self-made keys in a throwaway data directory, fast hashing.

Production's own behaviour (refusing to start without its keys, creating nothing) is
tested by running `pingan` under `pingan.settings.production` in a subprocess."""

import os
import tempfile

# Each test process gets its own data directory (keys, secret, SQLite file), so several
# test runs on one machine never share state.
if not os.environ.get("PINGAN_DATA_DIR"):
    os.environ["PINGAN_DATA_DIR"] = tempfile.mkdtemp(prefix="pingan-test-")

from .demo import *  # noqa: E402, F403
from .demo import DATA_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's shared in-memory default: concurrency tests need SQLite's real
    # locking, and WAL needs a file.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
