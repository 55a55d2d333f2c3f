"""Appending to and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

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


def record(action: str, target: str = "", client_code: str = "", **detail) -> AuditEntry:
    """Append one entry for the current actor. Runs inside the caller's transaction, so a
    write and its audit entry commit or roll back together (no savepoint of its own: a
    failed append must fail the caller's whole transaction, never leave a write unlogged)."""
    actor = current_actor()
    with transaction.atomic(savepoint=False):
        seq, prev_hash = _lock_head()
        entry = AuditEntry(
            seq=seq + 1,
            at=timezone.now(),
            username=actor.username,
            role=actor.role,
            action=action,
            target=target[:120],
            client_code=client_code,
            ip=actor.ip,
            detail=json.loads(json.dumps(detail, default=str)),
            prev_hash=prev_hash,
        )
        entry.hash = _digest(entry.prev_hash, entry.seq, entry.at.isoformat(), _fields(entry))
        entry.save()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s WHERE id = 1",
                [entry.seq, entry.hash],
            )
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
