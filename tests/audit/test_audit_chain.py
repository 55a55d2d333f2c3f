"""The audit log is append-only and `pingan audit verify` finds any tampering."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from audit_tampering import Unguarded as _Unguarded
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from pingan.audit.log import record, verify
from pingan.audit.models import AuditEntry


def _entries(n: int = 5) -> None:
    for i in range(n):
        record("test_event", target=f"thing:{i}", client_code="PA234567", n=i)


def _verify_command() -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("audit", "verify", "--no-progress", stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


@pytest.mark.django_db(transaction=True)
def test_intact_chain_verifies():
    _entries()
    assert verify() == []
    out, code = _verify_command()
    assert code == 0 and out.splitlines() == [
        "chain region: 5 entries, intact",
        "audit chain intact: 5 entries",
    ]


@pytest.mark.django_db(transaction=True)
def test_edited_entry_is_detected():
    _entries()
    with _Unguarded(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET client_code = %s, detail = %s WHERE seq = 3",
            ["PA999999", json.dumps({"n": 99})],
        )
    breaks = verify()
    assert [(b.seq, b.reason) for b in breaks] == [
        (3, "entry content changed after it was written")
    ]
    out, code = _verify_command()
    assert code == 1 and "break at entry 3" in out


@pytest.mark.django_db(transaction=True)
def test_deleted_entry_is_detected():
    _entries()
    with _Unguarded(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 2")
    seqs = {b.seq for b in verify()}
    assert 3 in seqs
    out, code = _verify_command()
    assert code == 1 and "entries 2..2 missing" in out


@pytest.mark.django_db(transaction=True)
def test_deleting_the_last_entry_is_detected():
    _entries()
    with _Unguarded(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 5")
    assert any("were written" in b.reason for b in verify())


@pytest.mark.django_db(transaction=True)
def test_orm_and_sql_changes_are_refused():
    _entries(2)
    entry = AuditEntry.objects.get(seq=1)
    entry.action = "edited"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(action="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).delete()
    for sql in ("UPDATE audit_auditentry SET action = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.count() == 2 and verify() == []


def test_audit_screen_filters_and_verifies(client_as, users):
    record("test_event", client_code="PA234567")
    record("other_event", client_code="PA765432")
    web = client_as("manager")
    page = web.get(reverse("audit:list"), {"client_code": "PA234567"}).content.decode()
    assert ">test_event</td>" in page and ">other_event</td>" not in page
    page = web.get(reverse("audit:list"), {"action": "other_event"}).content.decode()
    assert "<td>PA765432</td>" in page and "<td>PA234567</td>" not in page
    response = web.post(reverse("audit:verify"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "badge ok" in response.content.decode()
    for role in ("nurse", "clinician", "cdc", "police"):
        assert client_as(role).get(reverse("audit:list")).status_code == 403
