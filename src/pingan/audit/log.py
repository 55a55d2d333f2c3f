"""Appending to and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from pingan.core import clock

from .context import current_actor
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, seq: int, at: str, fields: dict) -> str:
    payload = json.dumps(
        {"prev": prev_hash, "seq": seq, "at": at, **fields},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _fields(entry: AuditEntry) -> dict:
    return {
        "username": entry.username,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "client_code": entry.client_code,
        "ip": entry.ip,
        "detail": entry.detail,
    }


def _lock_head() -> tuple[int, str]:
    """Read and lock the chain's head (one row, created by the migration). Plain SQL: every
    write of the application passes here, so the ORM's query building is not paid twice."""
    sql = f"SELECT seq, hash FROM {AuditHead._meta.db_table} WHERE id = 1"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        found = cursor.fetchone()
    if found is None:
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        return head.seq, head.hash
    return int(found[0]), found[1]


def _columns() -> list:
    return [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]


def _append(entry: AuditEntry) -> None:
    """Insert the entry and move the head to it (the head is locked already)."""
    fields = _columns()
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup a use
    values = [f.get_db_prep_save(getattr(entry, f.attname), db) for f in fields]
    quote = db.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING id".format(
                quote(AuditEntry._meta.db_table),
                ", ".join(quote(f.column) for f in fields),
                ", ".join(["%s"] * len(fields)),
            ),
            values,
        )
        entry.pk = cursor.fetchone()[0]
        cursor.execute(
            f"UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s WHERE id = 1",
            [entry.seq, entry.hash],
        )


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_LINKED_KEYS = ["action", "client_code", "detail", "ip", "role", "target", "username"]


def _payload_around(fields: dict) -> list[str]:
    """`_digest`'s JSON text cut where the time, the previous hash and the sequence go
    (its keys are sorted: action, at, client_code, detail, ip, prev, role, seq, target,
    username), for the database to fill in under the head lock."""
    if sorted(fields) != _LINKED_KEYS:  # `_fields` changed: cut this text again
        raise RuntimeError(f"audit fields {sorted(fields)} are not {_LINKED_KEYS}")
    text = {k: _dumps(k) + ":" + _dumps(v) for k, v in fields.items()}
    return [
        "{" + text["action"] + ',"at":"',
        '",' + ",".join(text[k] for k in ("client_code", "detail", "ip")) + ',"prev":"',
        '",' + text["role"] + ',"seq":',
        "," + text["target"] + "," + text["username"] + "}",
    ]


# PostgreSQL: lock the head, make the link and move the head in one statement. The time is
# the server's clock once the lock is held, so times follow the sequence; the hash is
# `_digest` computed by the server (sha256 over the same JSON text, the time written as
# Python's isoformat writes it), so `verify` checks it like any other entry.
_ISO_AT = (
    "to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN mod(date_part('microseconds', x.at)::bigint, 1000000) = 0 THEN ''"
    " ELSE to_char(x.at AT TIME ZONE 'UTC', '.US') END || '+00:00'"
)
_LINK_SQL = (
    "WITH h AS (SELECT seq, hash FROM {head} WHERE id = 1 FOR UPDATE),"
    " x AS (SELECT h.seq + 1 AS seq, h.hash AS prev, clock_timestamp() AS at FROM h),"
    " e AS (INSERT INTO {entry} ({columns}, seq, at, prev_hash, hash)"
    " SELECT {values}, x.seq, x.at, x.prev,"
    " encode(sha256(convert_to(%s || {iso} || %s || x.prev || %s || x.seq::text || %s,"
    " 'UTF8')), 'hex') FROM x RETURNING id, seq, at, prev_hash, hash)"
    " UPDATE {head} SET seq = e.seq, hash = e.hash FROM e WHERE {head}.id = 1"
    " RETURNING e.id, e.seq, e.at, e.prev_hash, e.hash"
)
_CHAINED = ("seq", "at", "prev_hash", "hash")


def _link_in_database(entry: AuditEntry) -> bool:
    fields = [f for f in _columns() if f.attname not in _CHAINED]
    db = connections[DEFAULT_DB_ALIAS]
    sql = _LINK_SQL.format(
        head=AuditHead._meta.db_table,
        entry=db.ops.quote_name(AuditEntry._meta.db_table),
        columns=", ".join(db.ops.quote_name(f.column) for f in fields),
        values=", ".join(["%s"] * len(fields)),
        iso=_ISO_AT,
    )
    values = [f.get_db_prep_save(getattr(entry, f.attname), db) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *_payload_around(_fields(entry))])
        found = cursor.fetchone()
    if found is None:  # no head row yet
        return False
    entry.pk, entry.seq, entry.at, entry.prev_hash, entry.hash = found
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


def record(action: str, target: str = "", client_code: str = "", **detail) -> AuditEntry:
    """Append one entry for the current actor. Runs inside the caller's transaction, so a
    write and its audit entry commit or roll back together (no savepoint of its own: a
    failed append must fail the caller's whole transaction, never leave a write unlogged).

    Everything that does not depend on the chain is prepared before the head is locked:
    the head lock is held until the caller commits, and every write of the centre queues
    for it. On PostgreSQL the link is one statement (`_LINK_SQL`), so nothing else runs
    between taking the lock and the commit; elsewhere (SQLite, where the write
    transaction already excludes every other writer) it is made here in Python."""
    actor = current_actor()
    entry = AuditEntry(
        username=actor.username,
        role=actor.role,
        action=action,
        target=target[:120],
        client_code=client_code,
        ip=actor.ip,
        detail=json.loads(json.dumps(detail, default=str)),
    )
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql" and _link_in_database(entry):
            return entry
        seq, prev_hash = _lock_head()
        entry.seq, entry.prev_hash, entry.at = seq + 1, prev_hash, clock.now()
        entry.hash = _digest(entry.prev_hash, entry.seq, entry.at.isoformat(), _fields(entry))
        _append(entry)
        entry._state.adding = False
        entry._state.db = connection.alias
    return entry


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify(entries: Iterator[AuditEntry] | None = None) -> list[Break]:
    """Walk the chain; report every place it does not hold (edited, deleted, reordered)."""
    breaks: list[Break] = []
    prev_hash, expected_seq = GENESIS, 1
    rows = entries if entries is not None else AuditEntry.objects.order_by("seq").iterator()
    for entry in rows:
        if entry.seq != expected_seq:
            breaks.append(Break(entry.seq, f"entries {expected_seq}..{entry.seq - 1} missing"))
        if entry.prev_hash != prev_hash:
            breaks.append(Break(entry.seq, "link to the previous entry broken"))
        if _digest(entry.prev_hash, entry.seq, entry.at.isoformat(), _fields(entry)) != entry.hash:
            breaks.append(Break(entry.seq, "entry content changed after it was written"))
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head and head.seq != expected_seq - 1:
        breaks.append(
            Break(head.seq, f"log ends at {expected_seq - 1} but {head.seq} were written")
        )
    return breaks
