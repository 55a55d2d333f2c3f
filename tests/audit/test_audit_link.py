"""The chain's link made by the database (PostgreSQL) is the link `verify` recomputes in
Python: same JSON text, same time format, same hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection

from pingan.audit import log
from pingan.audit.log import record, verify
from pingan.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

AWKWARD = {
    "text": 'quotes " and \\ backslash, 中文, tab\t, newline\n',
    "nested": {"b": [1, 2.5, None, True], "a": "z"},
    "amount": "49223615.00",
}


def test_payload_pieces_rebuild_the_digest():
    fields = {
        "username": "护士1",
        "role": "nurse",
        "action": "dose_record",
        "target": "dosing.dose:1",
        "client_code": "PA-0001",
        "ip": "10.0.0.7",
        "detail": AWKWARD,
    }
    at, prev, seq = "2026-11-23T18:00:00.000120+00:00", "ab" * 32, 12345
    first, second, third, last = log._payload_around(fields)
    text = first + at + second + prev + third + str(seq) + last
    assert hashlib.sha256(text.encode()).hexdigest() == log._digest(prev, seq, at, fields)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL time format is PostgreSQL's")
@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 23, 18, 0, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 18, 0, 7, 120, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ],
)
def test_database_time_text_is_pythons_isoformat(moment):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {log._ISO_AT} FROM (SELECT %s::timestamptz AS at) x", [moment])
        assert cursor.fetchone()[0] == moment.isoformat()


def test_entries_with_awkward_detail_verify(users):
    first = record("test_event", target="thing:1", client_code="PA-1", **AWKWARD)
    second = record("test_event", target="东西:2", client_code="PA-2", n=2)
    assert second.seq == first.seq + 1 and second.prev_hash == first.hash
    assert second.at >= first.at
    stored = AuditEntry.objects.get(pk=second.pk)
    assert (stored.seq, stored.hash, stored.at) == (second.seq, second.hash, second.at)
    assert verify() == []
