"""`pingan keys rotate`: everything re-encrypted, resumable, old keys read meanwhile; an
unknown key named, an interrupted or killed rotation audited as such."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from io import StringIO

import pytest
from cli_harness import db_env, refused, run
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core.crypto import UnknownFieldKey, key_id, keyring, reset_keyring
from pingan.ops.rotation import encrypted_columns, key_usage, rotate_column
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


@pytest.mark.django_db(transaction=True)
def test_an_unknown_key_is_named_and_nothing_is_rotated(users, use_keys):
    use_keys(OLD)
    clients = _enrol_five(users["clinician"])
    use_keys(NEW)  # the old key was lost (or the wrong one is configured)
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError) as refused, translation.override("en"):
        _run("rotate", "--no-progress")
    assert key_id(OLD) in str(refused.value) and "Nothing was rotated" in str(refused.value)
    assert AuditEntry.objects.count() == before  # not even a start
    assert key_usage(_identity_column())[key_id(OLD)] == 5
    # Reading such a value names the key and the field, instead of failing anywhere deeper.
    with pytest.raises(UnknownFieldKey) as unknown:
        actions.read_identity(clients[0], users["manager"])
    assert unknown.value.key_id == key_id(OLD)
    assert key_id(OLD) in str(unknown.value) and "registry.identity." in str(unknown.value)


@pytest.mark.django_db(transaction=True)
def test_the_same_through_the_command_line(users, use_keys):
    use_keys(OLD)
    _enrol_five(users["clinician"])
    use_keys(NEW)
    env = db_env()
    assert key_id(NEW) in env["PINGAN_FIELD_KEYS"] or env["PINGAN_FIELD_KEYS"] == NEW.decode()
    refused(run(["keys", "rotate", "--no-progress"], env), key_id(OLD))
    refused(run(["check"], env), key_id(OLD), "registry.identity.name")
    status = run(["keys", "status"], env)
    assert status.returncode == 0 and f"{key_id(OLD)} (UNKNOWN KEY)=5" in status.stdout


def _runs(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


@pytest.mark.django_db(transaction=True)
def test_a_rotation_that_fails_half_way_is_audited_as_interrupted(users, use_keys, monkeypatch):
    use_keys(OLD)
    _enrol_five(users["clinician"])
    use_keys(NEW, OLD)
    from pingan.ops.management.commands import keys as keys_command

    real = keys_command.rotate_column

    def one_batch_then_fail(col, batch=500):
        yield from itertools.islice(real(col, batch=batch), 1)
        raise RuntimeError("disk error")

    monkeypatch.setattr(keys_command, "rotate_column", one_batch_then_fail)
    with pytest.raises(RuntimeError, match="disk error"):
        _run("rotate", "--batch", "2", "--no-progress")
    (started,) = _runs("keys_rotation_started")
    (interrupted,) = _runs("keys_rotation_interrupted")
    assert interrupted.detail["run"] == started.detail["run"]
    assert interrupted.detail["reason"] == "RuntimeError"
    assert list(interrupted.detail["rewritten"].values()) == [2]  # one batch of one field
    assert _runs("keys_rotated") == []

    monkeypatch.setattr(keys_command, "rotate_column", real)
    _run("rotate", "--no-progress")
    (finished,) = _runs("keys_rotated")
    assert finished.detail["run"] != started.detail["run"]
    assert len(_runs("keys_rotation_interrupted")) == 1  # the failure was recorded already


KILLED_MID_ROTATION = """
import os, signal, django
django.setup()
from django.core.management import call_command
from pingan.ops.management.commands import keys

real = keys.rotate_column

def killed_after_one_batch(col, batch=500):
    for done in real(col, batch=batch):
        yield done
        os.kill(os.getpid(), signal.SIGKILL)  # a power cut: no Python code runs after this

keys.rotate_column = killed_after_one_batch
call_command("keys", "rotate", "--batch", "2", "--no-progress")
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("detected_by", ["keys rotate", "check"])
def test_a_killed_rotation_is_found_and_audited_as_interrupted(users, use_keys, detected_by):
    use_keys(OLD)
    clients = _enrol_five(users["clinician"])
    use_keys(NEW, OLD)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_ROTATION],
        env=db_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (started,) = _runs("keys_rotation_started")
    assert _runs("keys_rotation_interrupted") == [] and _runs("keys_rotated") == []
    assert key_usage(_identity_column())[key_id(NEW)] == 2  # one batch was done

    err = StringIO()
    if detected_by == "check":
        call_command("check", stdout=StringIO(), stderr=err)
    else:
        call_command("keys", "rotate", "--no-progress", stdout=StringIO(), stderr=err)
    assert key_id(NEW) in err.getvalue()
    (interrupted,) = _runs("keys_rotation_interrupted")
    assert interrupted.detail["run"] == started.detail["run"]
    assert interrupted.detail["started_seq"] == started.seq
    assert interrupted.detail["detected_by"] == f"pingan {detected_by}"
    assert interrupted.seq > started.seq
    # Found once: the next look finds nothing more to record.
    call_command("check", stdout=StringIO(), stderr=StringIO())
    assert len(_runs("keys_rotation_interrupted")) == 1
    if detected_by == "keys rotate":
        assert key_id(OLD) not in key_usage(_identity_column())  # and the work is finished
        assert _runs("keys_rotated")[0].detail["run"] != started.detail["run"]
    assert [actions.read_identity(c, users["manager"]).name for c in clients] == [
        f"Name {i}" for i in range(5)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_running_rotation_is_not_taken_for_an_interrupted_one(users, use_keys):
    from pingan.ops.rotation import rotation_lock

    use_keys(OLD)
    _enrol_five(users["clinician"])
    use_keys(NEW, OLD)
    with rotation_lock():  # as a rotation in another process holds it
        AuditEntry.objects.count()
        busy = run(["keys", "rotate", "--no-progress"], db_env())
        checked = run(["check"], db_env())
    assert busy.returncode != 0 and "Traceback" not in busy.stderr
    assert checked.returncode == 0, checked.stderr
    assert _runs("keys_rotation_interrupted") == []
