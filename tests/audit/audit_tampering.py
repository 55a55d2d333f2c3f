"""What an attacker with the database does to the audit log, for the tests to catch."""

from __future__ import annotations

import secrets

from django.db import connection

from pingan.audit import chain, guard, keys
from pingan.audit.log import _entry_key
from pingan.audit.models import AuditEntry, AuditHead


class Unguarded:
    """Lift the append-only triggers for a deliberate tamper, then put them back."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
            else:
                for sql in guard.SQLITE_REVERSE:
                    cursor.execute(sql)

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            else:
                for sql in guard.SQLITE:
                    cursor.execute(sql)


def rewrite(delete: list[int] = (), edit: dict[int, str] | None = None, key: bytes | None = None):
    """Delete entries, change targets, then renumber what is left 1..n, re-link every entry
    with `key` (None: a key the attacker guessed) and move the head to the new end: a whole
    chain that is consistent in itself. Entries keep the key id they carried."""
    key = key if key is not None else secrets.token_bytes(32)
    edit = edit or {}
    with Unguarded():
        AuditEntry.objects.filter(seq__in=list(delete)).delete()
        prev = chain.GENESIS
        for seq, entry in enumerate(AuditEntry.objects.order_by("seq"), start=1):
            entry.target = edit.get(entry.seq, entry.target)
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = chain.link(_entry_key(entry, key), prev, seq)
            AuditEntry.objects.filter(pk=entry.pk).update(
                seq=seq, prev_hash=prev, hash=entry.hash, target=entry.target
            )
            prev = entry.hash
        AuditHead.objects.filter(centre=None).update(seq=AuditEntry.objects.count(), hash=prev)


def real_key() -> bytes:
    return keys.audit_keys().current
