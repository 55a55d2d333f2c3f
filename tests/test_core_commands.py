"""The clinic core's command-line contract (docs/architecture.md, Contracts) and its production password hashing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, ManagementUtility, call_command

# Each core command of docs/architecture.md (Contracts), with words its help must contain.
CORE_COMMANDS = {
    ("demo",): ["--no-serve"],
    ("serve",): ["--host", "--port"],
    ("migrate",): ["usage"],
    ("createsuperuser",): ["--username"],
    ("import",): ["directory", "clients.csv", "doses.csv", "urine.csv", "tests.csv"],
    ("audit", "verify"): ["usage: pingan audit verify"],
    ("keys", "rotate"): ["usage: pingan keys rotate"],
    ("backup",): ["file"],
    ("restore",): ["--yes", "--key-file"],
    ("check",): ["--deploy", "field keys"],
}


@pytest.mark.parametrize("words", CORE_COMMANDS.items(), ids=lambda item: " ".join(item[0]))
def test_every_core_command_has_help(words, monkeypatch):
    command, expected = words
    out = StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["pingan", *command, "--help"]).execute()
    assert exit_.value.code in (0, None)
    text = out.getvalue()
    for word in expected:
        assert word in text, (command, word)


def test_the_console_script_answers_help():
    """The installed `pingan` script itself, as a newcomer runs it."""
    pingan = Path(sys.executable).parent / "pingan"
    done = subprocess.run(
        [str(pingan), "audit", "verify", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage: pingan audit verify" in done.stdout


PRODUCTION = """
import json, django
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, make_password
print(json.dumps({
    "hashers": settings.PASSWORD_HASHERS,
    "hash": make_password("correct horse"),
    "throttle": bool(settings.SIGNIN_THROTTLE),
    "otp": "django_otp" in settings.INSTALLED_APPS,
    "algorithm": get_hasher("default").algorithm,
}))
"""


def test_production_hashes_passwords_with_argon2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env.update(
        DJANGO_SETTINGS_MODULE="pingan.settings.production",
        PINGAN_DATA_DIR=str(tmp_path),
        # Production refuses to start without its keys (tests/keys/test_production_start.py).
        PINGAN_SECRET_KEY="s" * 50,
        PINGAN_FIELD_KEYS=Fernet.generate_key().decode("ascii"),
    )
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert result["algorithm"] == "argon2"
    assert result["hash"].startswith("argon2$argon2id$")
    assert result["throttle"] and result["otp"]


@pytest.mark.django_db(transaction=True)
def test_import_reports_a_nul_byte_by_file_line_and_column(tmp_path):
    """PostgreSQL refuses a NUL character in text and SQLite would store it: on both, the
    row is reported like any other bad cell and nothing is written."""
    from pingan.registry.models import Client

    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "clients.csv").write_bytes(
        b"code,alias,sex,birth_year,enrolled_on\n"
        b"C001,Old Wang,M,1975,2025-01-02\n"
        b"C002,Li\x00ly,F,1988,2025-02-01\n"
    )
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import", str(folder), "--no-progress", "--language", "en", stderr=err)
    assert "clients.csv:3: alias: contains a NUL character" in err.getvalue()
    assert Client.objects.count() == 0
