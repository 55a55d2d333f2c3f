"""The audit keys come from outside the database; production has no fallback, and
`check --deploy` says so before the first write fails."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.checks import run_checks
from django.core.management import call_command

from pingan.audit import keys
from pingan.audit.log import record
from pingan.audit.models import AuditEntry

HEX = "ab" * 32


@pytest.fixture
def production_like(settings, monkeypatch):
    """No key files (as under production settings) and no keys in the environment."""
    settings.CREATE_MISSING_KEYS = False
    monkeypatch.delenv(keys.AUDIT_KEY_ENV, raising=False)
    monkeypatch.delenv(keys.SIGNING_KEY_ENV, raising=False)
    keys.reset()
    yield
    keys.reset()


def _audit_errors() -> dict[str, str]:
    found = run_checks(include_deployment_checks=True)
    return {e.id: e.msg for e in found if e.id.startswith("pingan.audit")}


def test_the_deploy_check_fires_without_keys(production_like):
    errors = _audit_errors()
    assert errors == {
        "pingan.audit.E001": "The audit key is missing or malformed: PINGAN_AUDIT_KEY is not set.",
        "pingan.audit.E002": "The checkpoint key is missing or malformed:"
        " PINGAN_AUDIT_SIGNING_KEY is not set.",
    }
    # Not a deploy-only concern for the other checks: without --deploy it stays quiet.
    assert not [e for e in run_checks() if e.id.startswith("pingan.audit")]


def test_the_deploy_check_names_a_malformed_key_without_showing_it(production_like, monkeypatch):
    monkeypatch.setenv(keys.AUDIT_KEY_ENV, "not-a-key-at-all")
    monkeypatch.setenv(keys.SIGNING_KEY_ENV, keys.fresh()[keys.SIGNING_KEY_ENV])
    errors = _audit_errors()
    assert list(errors) == ["pingan.audit.E001"]
    assert "PINGAN_AUDIT_KEY is malformed" in errors["pingan.audit.E001"]
    assert "not-a-key-at-all" not in errors["pingan.audit.E001"]


def test_keys_from_the_environment_pass(production_like, monkeypatch):
    fresh = keys.fresh()
    monkeypatch.setenv(keys.AUDIT_KEY_ENV, f"{fresh[keys.AUDIT_KEY_ENV]},{HEX}")
    monkeypatch.setenv(keys.SIGNING_KEY_ENV, HEX)
    assert _audit_errors() == {}
    loaded = keys.load_audit_keys()
    assert loaded.keys[1] == bytes.fromhex(HEX) and len(loaded.keys) == 2


@pytest.mark.django_db
def test_without_the_key_a_write_is_refused_and_nothing_is_written(production_like):
    with pytest.raises(keys.AuditKeyError, match="PINGAN_AUDIT_KEY is not set"):
        record("test_event", target="thing")
    assert not AuditEntry.objects.exists()


def test_the_demo_keeps_its_keys_in_the_data_directory(settings, tmp_path, monkeypatch):
    settings.CREATE_MISSING_KEYS = True
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv(keys.AUDIT_KEY_ENV, raising=False)
    first = keys.load_audit_keys()
    assert keys.load_audit_keys() == first
    path = tmp_path / keys.AUDIT_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600


def test_keys_prints_fresh_keys_and_writes_nothing(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("audit", "keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    assert set(lines) == {keys.AUDIT_KEY_ENV, keys.SIGNING_KEY_ENV}
    assert len(keys.decode(lines[keys.AUDIT_KEY_ENV], "x")) == 32
    assert list(tmp_path.iterdir()) == []


def test_pingan_check_deploy_under_production_settings_reports_the_missing_key(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PINGAN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pingan.settings.production",
        PINGAN_DATA_DIR=str(tmp_path),
        PINGAN_SECRET_KEY="s" * 50,
        PINGAN_FIELD_KEYS=Fernet.generate_key().decode(),
        PINGAN_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pingan", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "pingan.audit.E001" in output and "PINGAN_AUDIT_KEY is not set" in output
    assert "pingan.audit.E002" in output
    assert "Traceback" not in output
