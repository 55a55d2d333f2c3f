"""`pingan keys rotate`: everything re-encrypted, resumable, old keys read meanwhile."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from pingan.audit.models import AuditEntry
from pingan.core.crypto import key_id, keyring, reset_keyring
from pingan.core.rotation import encrypted_columns, key_usage, rotate_column
from pingan.registry import actions
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Identity

OLD, NEW = Fernet.generate_key(), Fernet.generate_key()
IDS = ["11010519491231002X", "E0000001", "E0000002", "E0000003", "E0000004"]


@pytest.fixture
def use_keys(monkeypatch):
    def use(*keys: bytes) -> None:
        monkeypatch.setenv("PINGAN_FIELD_KEYS", ",".join(k.decode() for k in keys))
        reset_keyring()

    yield use
    monkeypatch.delenv("PINGAN_FIELD_KEYS", raising=False)
    reset_keyring()


def _enrol_five(user) -> list:
    clients = []
    for i, number in enumerate(IDS):
        clients.append(
            actions.enrol_client(
                alias=f"client {i}",
                sex="M",
                birth_year=1949,
                user=user,
                identity=IdentityInput(
                    name=f"Name {i}",
                    document_type="prc_id" if i == 0 else "other",
                    national_id=number,
                    phone=f"1390000000{i}",
                    address=f"Street {i}",
                ),
            )
        )
    return clients


def _identity_column():
    return next(c for c in encrypted_columns() if c.label == "registry.identity.name")


def _run(*args: str) -> str:
    out = StringIO()
    call_command("keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_generate_prints_a_fernet_key():
    key = _run("generate").strip()
    Fernet(key.encode())  # raises if malformed


def test_encrypted_columns_are_found_by_introspection():
    labels = {c.label for c in encrypted_columns()}
    assert {
        "registry.client.photo",
        "registry.identity.name",
        "registry.identity.national_id",
        "registry.identity.phone",
        "registry.identity.address",
    } <= labels


@pytest.mark.django_db(transaction=True)
def test_rotation_is_complete_resumable_and_old_key_reads(users, use_keys):
    use_keys(OLD)
    clients = _enrol_five(users["clinician"])
    use_keys(NEW, OLD)  # the operator adds the new key first
    assert key_usage(_identity_column())[key_id(OLD)] == 5
    assert actions.read_identity(clients[3], users["manager"]).name == "Name 3"

    calls = {"n": 0}

    def crash_in_second_batch(pk):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("power cut")

    progress = []
    with pytest.raises(RuntimeError, match="power cut"):
        for done in rotate_column(_identity_column(), batch=2, before_row=crash_in_second_batch):
            progress.append(done)
    assert progress == [2]  # the first batch committed, the interrupted one rolled back
    usage = key_usage(_identity_column())
    assert usage[key_id(NEW)] == 2 and usage[key_id(OLD)] == 3
    # During the rotation both generations decrypt.
    assert [actions.read_identity(c, users["manager"]).name for c in clients] == [
        f"Name {i}" for i in range(5)
    ]

    out = _run("rotate", "--batch", "2", "--no-progress")
    assert "rotated" in out
    for col in encrypted_columns():
        assert key_id(OLD) not in key_usage(col), col.label
    status = _run("status")
    assert "every value is under the newest key" in status
    summary = AuditEntry.objects.filter(action="keys_rotated").last()
    assert summary.username == "system"
    assert summary.detail["rewritten"]["registry.identity.name"] == 3  # only the rest
    assert "Name" not in str(summary.detail)

    # Re-running finds nothing left to do.
    assert "rotated 0 value(s)" in _run("rotate", "--no-progress")

    # The operator removes the old key; data reads, and the blind index follows after reindex.
    use_keys(NEW)
    assert actions.read_identity(clients[0], users["manager"]).national_id == IDS[0]
    assert actions.find_duplicates(IDS[0]) == []  # index still under the retired key
    assert "5 blind index" in _run("reindex")
    assert actions.find_duplicates(IDS[0]) == [clients[0].code]


@pytest.mark.django_db(transaction=True)
def test_status_names_unknown_keys(users, use_keys):
    use_keys(OLD)
    _enrol_five(users["clinician"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM registry_identity")
        assert cursor.fetchone()[0] == 5
    use_keys(NEW)
    status = _run("status")
    assert f"{key_id(OLD)} (UNKNOWN KEY)=5" in status
    assert keyring().current_id == key_id(NEW)
    assert Identity.objects.count() == 5
