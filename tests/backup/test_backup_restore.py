"""Backup then restore gives back exactly the data backed up (on the engine under test)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from pingan.audit.log import verify
from pingan.audit.models import AuditEntry
from pingan.core.backup import BackupError, check_restorable, file_engine
from pingan.dosing.models import Dose
from pingan.imports.loader import load_directory
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.models import Client, Identity

FILES = {
    "clients.csv": "code,alias,sex,birth_year,enrolled_on,name,phone\n"
    "C001,老王,M,1975,2025-01-02,王建国,13900000001\nC002,Lily,F,1988,2025-02-01,,\n",
    "doses.csv": "client_code,date,mg,kind\nC001,2025-01-02,30,clinic\n"
    "C001,2025-01-03,35,takehome\nC002,2025-02-01,20,clinic\n",
    "urine.csv": "client_code,date,analyte,result\nC001,2025-01-10,opiates,negative\n"
    "C001,2025-01-10,morphine,positive\n",
    "tests.csv": "client_code,date,test,result\nC002,2025-02-05,hcv,positive\n",
}


def write_dir(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


pytestmark = pytest.mark.django_db(transaction=True)


def digest() -> str:
    """A fingerprint of every client, identity, dose, urine and test row."""
    h = hashlib.sha256()
    for model, fields in [
        (Client, ["code", "alias", "sex", "birth_year", "external_id"]),
        (Identity, ["client__code", "name", "national_id", "phone", "address"]),
        (Dose, ["client__code", "date", "mg", "kind", "volume_ml", "given_at", "external_id"]),
        (UrineSample, ["client__code", "collected_on", "external_id"]),
        (UrineResult, ["sample__external_id", "analyte", "result"]),
        (InfectionTest, ["client__code", "tested_on", "test", "result"]),
    ]:
        for row in model.objects.order_by("pk").values_list(*fields):
            h.update(repr(row).encode())
    return h.hexdigest()


def indicator_output(*periods: str) -> dict[str, dict]:
    """`pingan indicators --format json` for each month, as the CLI prints it."""
    out = {}
    for period in periods:
        buffer = io.StringIO()
        call_command(
            "indicators", "--period", period, "--format", "json", "--no-progress", stdout=buffer
        )
        out[period] = json.loads(buffer.getvalue())
    return out


def test_backup_then_restore_gives_identical_data(tmp_path):
    load_directory(write_dir(tmp_path / "in", FILES), progress=False)
    before, entries = digest(), AuditEntry.objects.count()
    indicators_before = indicator_output("2025-01", "2025-02")
    # The fixture must give the indicators something to count, or equality proves nothing.
    assert any(
        (row.get("numerator") or 0) > 0
        for result in indicators_before.values()
        for row in result["indicators"].values()
    )
    target = tmp_path / "pingan.backup"
    call_command("backup", str(target))
    assert target.exists() and not Path(str(target) + ".tmp").exists()
    assert file_engine(target) == connection.vendor

    # Change things after the backup: a restore must undo them.
    Dose.objects.filter(date=date(2025, 1, 2)).delete()
    Client.objects.filter(code="C002").update(alias="changed")
    assert digest() != before
    assert indicator_output("2025-01", "2025-02") != indicators_before

    call_command("restore", str(target), "--yes")
    assert digest() == before
    assert indicator_output("2025-01", "2025-02") == indicators_before
    assert verify() == []
    # The backup's own entry came after the snapshot, so it is not in it; the restore
    # is audited on top of the restored chain.
    assert AuditEntry.objects.count() == entries + 1
    assert AuditEntry.objects.order_by("-seq").first().action == "restore"


def test_restore_refuses_without_yes_when_not_interactive(tmp_path, monkeypatch):
    target = tmp_path / "b"
    call_command("backup", str(target))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(target))


def test_restore_refuses_the_other_engine_and_non_backups(tmp_path):
    other = tmp_path / "other"
    if connection.vendor == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
        expected = "PostgreSQL backup but this installation runs on SQLite"
    else:
        other.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
        expected = "SQLite backup but this installation runs on PostgreSQL"
    with pytest.raises(BackupError, match=expected):
        check_restorable(other)
    junk = tmp_path / "junk.csv"
    junk.write_text("code,alias\n")
    with pytest.raises(CommandError, match="not a Ping An backup"):
        call_command("restore", str(junk), "--yes")


def test_postgres_password_goes_in_the_environment_not_the_command_line(monkeypatch):
    from pingan.core import backup as backup_module

    for key, value in {
        "HOST": "db.example",
        "PORT": "5433",
        "USER": "pingan",
        "PASSWORD": "s3cret",
    }.items():
        monkeypatch.setitem(connection.settings_dict, key, value)
    args, env = backup_module._pg_args()
    assert args == ["-h", "db.example", "-p", "5433", "-U", "pingan"]
    assert "s3cret" not in " ".join(args) and env["PGPASSWORD"] == "s3cret"


def test_a_failed_backup_leaves_no_file(tmp_path, monkeypatch):
    from pingan.core import backup as backup_module

    def fail(tmp):
        tmp.write_bytes(b"partial")
        raise BackupError("disk full")

    monkeypatch.setattr(backup_module, "_sqlite_backup", fail)
    monkeypatch.setattr(backup_module, "_pg_dump", fail)
    target = tmp_path / "b"
    with pytest.raises(CommandError, match="disk full"):
        call_command("backup", str(target))
    assert list(tmp_path.iterdir()) == []
