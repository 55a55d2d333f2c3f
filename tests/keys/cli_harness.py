"""Running the installed `pingan` command in its own process, as an operator does.

`production_env` is a fresh production configuration in a folder of the test's own;
`db_env` points a process at this test's database and keys (the test must commit what
the process should see: `django_db(transaction=True)`)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

from cryptography.fernet import Fernet

PINGAN = str(Path(sys.executable).parent / "pingan")
SECRET = "test-secret-" + "x" * 40


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Ping An or Django settings, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PINGAN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(extra)
    return env


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Everything production needs (nothing else), the data directory made 0700."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = clean_env(
        PINGAN_DATA_DIR=str(data_dir),
        PINGAN_SECRET_KEY=SECRET,
        PINGAN_FIELD_KEYS=Fernet.generate_key().decode("ascii"),
        # The audit chain's keys (docs/audit.md), which production also reads from here.
        PINGAN_AUDIT_KEY=secrets.token_hex(32),
        PINGAN_AUDIT_SIGNING_KEY=secrets.token_hex(32),
    )
    env.update(extra)
    return env


def database_url() -> str:
    """The URL of the database this test runs on (the test database)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = urllib.parse.quote(db["USER"] or "")
    password = ":" + urllib.parse.quote(db["PASSWORD"]) if db["PASSWORD"] else ""
    host = urllib.parse.quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def db_env(**extra: str) -> dict[str, str]:
    """A `pingan` process on this test's database, with the keys the test is using."""
    from django.conf import settings

    from pingan.core.crypto import load_keys

    env = clean_env(
        DJANGO_SETTINGS_MODULE="pingan.settings.test",
        PINGAN_DATA_DIR=str(settings.DATA_DIR),
        PINGAN_DATABASE_URL=database_url(),
        PINGAN_FIELD_KEYS=",".join(k.decode("ascii") for k in load_keys()),
        PINGAN_SECRET_KEY=settings.SECRET_KEY,
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], **options) -> subprocess.CompletedProcess:
    options.setdefault("timeout", 180)
    return subprocess.run([PINGAN, *args], env=env, capture_output=True, text=True, **options)


def refused(done: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert a clean refusal: non-zero exit, no traceback, every needle on stderr."""
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr)
    return done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(folder: Path) -> list[str]:
    """Every path under `folder`, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
