"""The keyed link: what the database makes (PostgreSQL) is what `verify` recomputes in
Python, the time is Ping An's clock, and the chain keeps verifying across the entries
written before it was keyed."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from audit_tampering import Unguarded
from django.db import connection

from pingan.audit import chain, keys
from pingan.audit.log import check, record, verify
from pingan.audit.models import AuditEntry, AuditHead
from pingan.core import clock

pytestmark = pytest.mark.django_db

AWKWARD = {
    "text": 'quotes " and \\ backslash, 中文, tab\t, newline\n',
    "nested": {"b": [1, 2.5, None, True], "a": "z"},
    "amount": "49223615.00",
}


def test_padded_keys_make_hmac_from_sha256_alone():
    key, message = bytes(range(32)), b"ab" * 32 + b":12345"
    inner, outer = chain.pads(key)
    by_hand = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).hexdigest()
    assert by_hand == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert by_hand == chain.link(key, "ab" * 32, 12345)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL HMAC is PostgreSQL's")
def test_the_database_hmac_is_pythons():
    key = hashlib.sha256(b"k").digest()
    inner, outer = chain.pads(key)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(%s::bytea || sha256(%s::bytea"
            " || convert_to(%s || ':' || %s::text, 'UTF8'))), 'hex')",
            [outer, inner, "cd" * 32, 987654321],
        )
        assert cursor.fetchone()[0] == chain.link(key, "cd" * 32, 987654321)


def test_entries_with_awkward_detail_verify(users):
    first = record("test_event", target="thing:1", client_code="PA-1", **AWKWARD)
    second = record("test_event", target="东西:2", client_code="PA-2", n=2)
    assert second.seq == first.seq + 1 and second.prev_hash == first.hash
    assert second.key_id == keys.audit_keys().current_id
    stored = AuditEntry.objects.get(pk=second.pk)
    assert (stored.seq, stored.hash, stored.at, stored.key_id) == (
        second.seq,
        second.hash,
        second.at,
        second.key_id,
    )
    assert AuditHead.objects.get(pk=1).hash == second.hash
    assert verify() == []


def test_an_entry_is_stamped_with_pingans_clock_on_every_database():
    # A naive instant is the centre's local time: the link is made from UTC either way.
    with clock.frozen(datetime(2026, 2, 17, 23, 59, 30)):
        entry = record("test_event", target="at midnight")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.at == datetime(2026, 2, 17, 15, 59, 30, tzinfo=UTC)
    assert verify() == []


def test_the_link_is_a_mac_under_the_audit_key():
    entry = record("test_event", target="thing:1")
    assert chain.link(b"\0" * 32, entry.prev_hash, entry.seq) != entry.hash
    other = keys.AuditKeys((b"\1" * 32,))
    assert check(AuditEntry.objects.order_by("seq")).breaks == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keys, "audit_keys", lambda: other)
        reasons = [str(b.reason) for b in verify()]
    assert reasons == [f"linked with audit key {entry.key_id}, which is not configured"]


def _legacy(seq: int, prev: str, target: str) -> tuple[str, list]:
    """An entry as the unkeyed chain wrote it (before this chain was keyed)."""
    at = datetime(2026, 1, 5, 8, seq, tzinfo=UTC)
    fields = {
        "username": "nurse1",
        "role": "nurse",
        "action": "test_event",
        "target": target,
        "client_code": "",
        "ip": "",
        "detail": {},
    }
    digest = chain.legacy_digest(prev, seq, at.isoformat(), fields)
    AuditEntry.objects.bulk_create(
        [AuditEntry(seq=seq, at=at, prev_hash=prev, hash=digest, key_id=None, **fields)]
    )
    return digest


def _unkeyed_prefix(n: int) -> str:
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        prev = _legacy(seq, prev, f"old:{seq}")
    AuditHead.objects.filter(pk=1).update(seq=n, hash=prev)
    return prev


def test_a_chain_written_before_the_key_still_verifies_and_the_keyed_entries_seal_it():
    last_unkeyed = _unkeyed_prefix(3)
    entry = record("test_event", target="first keyed")
    assert (entry.seq, entry.prev_hash) == (4, last_unkeyed)
    report = check()
    assert report.breaks == [] and report.unkeyed == 3 and report.total == 4


def test_rewriting_the_unkeyed_prefix_breaks_the_first_keyed_entry():
    _unkeyed_prefix(3)
    record("test_event", target="first keyed")
    # Without the key, an attacker re-hashes the unkeyed entries (their links need no key)
    # after changing one: the first keyed entry's MAC covers the old last link.
    with Unguarded():
        rows = list(AuditEntry.objects.order_by("seq"))
        AuditEntry.objects.filter(seq__lte=3).delete()
        prev = chain.GENESIS
        for row in rows[:3]:
            prev = _legacy(row.seq, prev, "rewritten" if row.seq == 2 else row.target)
        AuditEntry.objects.filter(seq=4).update(prev_hash=prev)
    assert [(b.seq, str(b.reason)) for b in verify()] == [
        (4, "entry content changed after it was written")
    ]


def test_an_unkeyed_entry_after_keyed_ones_is_a_break():
    entry = record("test_event", target="keyed")
    _legacy(entry.seq + 1, entry.hash, "downgraded")
    AuditHead.objects.filter(pk=1).update(seq=entry.seq + 1)
    assert [str(b.reason) for b in verify()] == ["unkeyed entry after keyed entries"]
