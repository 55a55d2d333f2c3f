"""Backup then restore gives back exactly the data backed up (on the engine under test); the
file is encrypted and private, and a wrong key or an altered file is refused with nothing
written."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from pingan.audit.log import verify
from pingan.audit.models import AuditEntry
from pingan.core import backup_format
from pingan.dosing.models import Dose
from pingan.imports.loader import load_directory
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.ops.backup import BackupError, check_restorable, file_engine
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

# Backup keys as `pingan keys generate` prints them, and the 32 bytes they stand for.
KEY, OTHER_KEY = Fernet.generate_key(), Fernet.generate_key()
RAW, OTHER_RAW = backup_format.parse_key(KEY), backup_format.parse_key(OTHER_KEY)


@pytest.fixture(autouse=True)
def backup_key(monkeypatch):
    monkeypatch.setenv("PINGAN_BACKUP_KEY", KEY.decode())


@pytest.fixture(autouse=True)
def in_english():
    """The messages are asserted in English (the centre's default language is Chinese)."""
    with translation.override("en"):
        yield


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
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Encrypted: neither the engine's format nor any record in clear.
    raw = target.read_bytes()
    assert raw.startswith(backup_format.MAGIC) and file_engine(target) is None
    for clear in ("老王", "王建国", "13900000001", "Lily", "morphine", "C001"):
        assert clear.encode("utf-8") not in raw, clear
    with open(target, "rb") as f:
        assert backup_format.read_header(f).engine == connection.vendor

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
    engine = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    with open(other, "wb") as f:
        backup_format.seal(io.BytesIO(b"whatever"), f, RAW, engine)
    if connection.vendor == "sqlite":
        expected = "PostgreSQL backup but this installation runs on SQLite"
    else:
        expected = "SQLite backup but this installation runs on PostgreSQL"
    with pytest.raises(BackupError, match=expected):
        check_restorable(other, RAW)
    junk = tmp_path / "junk.csv"
    junk.write_text("code,alias\n")
    with pytest.raises(CommandError, match="not a Ping An backup"):
        call_command("restore", str(junk), "--yes")


def test_postgres_password_goes_in_the_environment_not_the_command_line(monkeypatch):
    from pingan.ops import backup as backup_module

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
    from pingan.ops import backup as backup_module

    def fail(tmp):
        tmp.write_bytes(b"partial")
        raise BackupError("disk full")

    def fail_streaming(out, key):
        out.write(b"partial")
        raise BackupError("disk full")

    monkeypatch.setattr(backup_module, "_sqlite_backup", fail)
    monkeypatch.setattr(backup_module, "_pg_dump_sealed", fail_streaming)
    target = tmp_path / "b"
    with pytest.raises(CommandError, match="disk full"):
        call_command("backup", str(target))
    assert list(tmp_path.iterdir()) == []


def _snapshot() -> tuple[str, int]:
    return digest(), AuditEntry.objects.count()


def test_a_wrong_key_or_an_altered_file_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    load_directory(write_dir(tmp_path / "in", FILES), progress=False)
    target = tmp_path / "pingan.backup"
    call_command("backup", str(target))
    Client.objects.filter(code="C002").update(alias="changed after the backup")
    before = _snapshot()

    monkeypatch.setenv("PINGAN_BACKUP_KEY", OTHER_KEY.decode())
    with pytest.raises(CommandError) as wrong:
        call_command("restore", str(target), "--yes")
    assert "Nothing was restored" in str(wrong.value)
    ids = (backup_format.backup_key_id(RAW), backup_format.backup_key_id(OTHER_RAW))
    assert all(i in str(wrong.value) for i in ids)
    assert _snapshot() == before

    # The right key, a file altered anywhere: a flipped byte in the middle, the last chunk
    # cut off, the header's engine or key id changed.
    monkeypatch.setenv("PINGAN_BACKUP_KEY", KEY.decode())
    good = target.read_bytes()
    body = backup_format.HEADER_SIZE
    flipped = bytearray(good)
    flipped[body + (len(good) - body) // 2] ^= 0x01
    chunk = backup_format.CHUNK_SIZE + backup_format.TAG_SIZE
    cut = good[: body + chunk] if len(good) > body + chunk else good[:-1]
    for altered in (bytes(flipped), cut, good + b"\x00"):
        target.write_bytes(altered)
        with pytest.raises(CommandError, match="damaged or has been altered"):
            call_command("restore", str(target), "--yes")
        assert _snapshot() == before
    forged = bytearray(good)
    forged[10:14] = bytes.fromhex(backup_format.backup_key_id(RAW))  # unchanged id, but:
    forged[30:34] = (backup_format.CHUNK_SIZE // 2).to_bytes(4, "big")  # another chunk size
    target.write_bytes(bytes(forged))
    with pytest.raises(CommandError, match="damaged or has been altered"):
        call_command("restore", str(target), "--yes")
    assert _snapshot() == before
    assert not AuditEntry.objects.filter(action="restore").exists()

    target.write_bytes(good)
    call_command("restore", str(target), "--yes")
    assert Client.objects.get(code="C002").alias == "Lily"


def test_the_backup_key_is_required_well_formed_and_outside_the_data_directory(
    tmp_path, monkeypatch
):
    target = tmp_path / "b"
    monkeypatch.delenv("PINGAN_BACKUP_KEY")
    with pytest.raises(CommandError, match="PINGAN_BACKUP_KEY"):
        call_command("backup", str(target))
    monkeypatch.setenv("PINGAN_BACKUP_KEY", "not a key")
    with pytest.raises(CommandError, match="PINGAN_BACKUP_KEY"):
        call_command("backup", str(target))
    inside = Path(settings.DATA_DIR) / "backup.key"
    inside.write_bytes(KEY)
    try:
        with pytest.raises(CommandError, match="inside the data directory"):
            call_command("backup", str(target), "--key-file", str(inside))
    finally:
        inside.unlink()
    outside = tmp_path / "backup.key"
    outside.write_bytes(KEY + b"\n")
    monkeypatch.delenv("PINGAN_BACKUP_KEY")
    call_command("backup", str(target), "--key-file", str(outside))
    assert check_restorable(target, RAW) == connection.vendor
    assert sorted(tmp_path.iterdir()) == [target, outside]


def test_an_unencrypted_backup_of_an_earlier_release_needs_saying_so(tmp_path):
    from pingan.ops import backup as backup_module

    load_directory(write_dir(tmp_path / "in", FILES), progress=False)
    before = digest()
    plain = tmp_path / "old.backup"
    if connection.vendor == "sqlite":
        backup_module._sqlite_backup(plain)
    else:
        args, env = backup_module._pg_args()
        name = str(connection.settings_dict["NAME"])
        backup_module._run(["pg_dump", "-Fc", "-f", str(plain), *args, name], env)
    Client.objects.filter(code="C002").update(alias="changed")
    with pytest.raises(CommandError, match="--unencrypted"):
        call_command("restore", str(plain), "--yes")
    assert digest() != before
    call_command("restore", str(plain), "--yes", "--unencrypted")
    assert digest() == before
