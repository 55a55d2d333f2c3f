"""The clinic core's command-line contract (DESIGN.md §5) and its production password hashing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import ManagementUtility

# Each core command of DESIGN.md §5, with words its help must contain.
CORE_COMMANDS = {
    ("demo",): ["--no-serve"],
    ("serve",): ["--host", "--port"],
    ("migrate",): ["usage"],
    ("createsuperuser",): ["--username"],
    ("import",): ["directory", "clients.csv", "doses.csv", "urine.csv", "tests.csv"],
    ("audit", "verify"): ["usage: pingan audit verify"],
    ("keys", "rotate"): ["usage: pingan keys rotate"],
    ("backup",): ["file"],
    ("restore",): ["--yes"],
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
    "axes": "axes" in settings.INSTALLED_APPS,
    "otp": "django_otp" in settings.INSTALLED_APPS,
    "algorithm": get_hasher("default").algorithm,
}))
"""


def test_production_hashes_passwords_with_argon2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env.update(DJANGO_SETTINGS_MODULE="pingan.settings.production", PINGAN_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert result["algorithm"] == "argon2"
    assert result["hash"].startswith("argon2$argon2id$")
    assert result["axes"] and result["otp"]
