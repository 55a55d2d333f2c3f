"""Appending to and verifying the audit chains, one per centre and one for the region (the
links themselves: `chain.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from pingan.core import clock, prepared
from pingan.core.models import Centre

from . import chain, keys
from .chain import GENESIS
from .context import CentreRef, centre_id, current_actor, current_centre_id
from .models import AuditEntry, AuditHead

__all__ = ["GENESIS", "Break", "Report", "Walk", "check", "record", "verify"]


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


def _entry_key(entry: AuditEntry, audit_key: bytes) -> bytes:
    return chain.entry_key(audit_key, chain.content(entry.at, _fields(entry)))


def _head_where(centre_id: int | None) -> tuple[str, list]:
    """The head row of one chain: a centre's, or the region's (centre NULL)."""
    column = AuditHead._meta.get_field("centre").column
    if centre_id is None:
        return f"{column} IS NULL", []
    return f"{column} = %s", [centre_id]


def _create_head(centre_id: int | None) -> None:
    """A chain's head, made by its first entry (two first writers: one insert counts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditHead._meta.db_table}"
            f" ({AuditHead._meta.get_field('centre').column}, seq, hash)"
            " VALUES (%s, 0, %s) ON CONFLICT DO NOTHING",
            [centre_id, GENESIS],
        )


def _lock_head(centre_id: int | None = None) -> tuple[int, str]:
    """Read and lock one chain's head. Plain SQL: every write of the application passes
    here, so the ORM's query building is not paid twice."""
    where, params = _head_where(centre_id)
    sql = f"SELECT seq, hash FROM {AuditHead._meta.db_table} WHERE {where}"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
        if found is None:
            _create_head(centre_id)
            cursor.execute(sql, params)
            found = cursor.fetchone()
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
        where, params = _head_where(entry.centre_id)
        cursor.execute(
            f"UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s WHERE {where}",
            [entry.seq, entry.hash, *params],
        )


# PostgreSQL: lock the entry's chain's head, link the entry and move the head in one
# statement, so nothing else runs between taking the chain's lock and the caller's commit. The link is
# `chain.link` computed by the server as HMAC's definition (RFC 2104) with SHA-256, from the
# entry key's padded forms (`chain.pads`); its message is the previous link, ":", and the
# sequence number. `verify` recomputes it in Python like any other entry.
_LINK_SQL = (
    "WITH h AS (SELECT id, seq, hash FROM {head} WHERE {where} FOR UPDATE),"
    " x AS (SELECT h.id AS head, h.seq + 1 AS seq, h.hash AS prev FROM h),"
    " e AS (INSERT INTO {entry} ({columns}, seq, prev_hash, hash)"
    " SELECT {values}, x.seq, x.prev,"
    " encode(sha256(%s::bytea || sha256(%s::bytea"
    " || convert_to(x.prev || ':' || x.seq::text, 'UTF8'))), 'hex')"
    " FROM x RETURNING id, seq, prev_hash, hash)"
    " UPDATE {head} SET seq = e.seq, hash = e.hash FROM e, x WHERE {head}.id = x.head"
    " RETURNING e.id, e.seq, e.prev_hash, e.hash"
)
_CHAINED = ("seq", "prev_hash", "hash")


def _link_in_database(entry: AuditEntry, key: bytes) -> bool:
    fields = [f for f in _columns() if f.attname not in _CHAINED]
    db = connections[DEFAULT_DB_ALIAS]
    where, params = _head_where(entry.centre_id)
    sql = _LINK_SQL.format(
        head=AuditHead._meta.db_table,
        where=where,
        entry=db.ops.quote_name(AuditEntry._meta.db_table),
        columns=", ".join(db.ops.quote_name(f.column) for f in fields),
        values=", ".join(["%s"] * len(fields)),
    )
    values = [f.get_db_prep_save(getattr(entry, f.attname), db) for f in fields]
    inner, outer = chain.pads(key)
    with connection.cursor() as cursor:
        prepared.execute(cursor, "audit_link", sql, [*params, *values, outer, inner])
        found = cursor.fetchone()
    if found is None:  # no head row yet
        return False
    entry.pk, entry.seq, entry.prev_hash, entry.hash = found
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


# `record`'s centre when the caller names none: the one set around it (`context.in_centre`).
_FROM_CONTEXT = object()


def record(
    action: str,
    target: str = "",
    client_code: str = "",
    *,
    centre: CentreRef | object = _FROM_CONTEXT,
    **detail,
) -> AuditEntry:
    """Append one entry for the current actor to a chain: `centre`'s when given (a centre,
    its id or its code; None for the region's chain), else the centre set around the call
    (`context.in_centre`: a request's current centre), else the region's. A caller that
    knows the client's centre passes it; the audit app cannot look clients up. Runs inside the caller's transaction, so a
    write and its audit entry commit or roll back together (no savepoint of its own: a
    failed append must fail the caller's whole transaction, never leave a write unlogged).
    Without the audit key (production, see `keys`) it raises `keys.AuditKeyError`, and the
    caller's write fails with it.

    Everything that does not depend on the chain, the entry's key included, is prepared
    before the head is locked: the head lock is held until the caller commits, and every
    write of the centre queues for it. The time is taken here too, so it is the action's
    time, and entries written at the same instant by two connections may be a few
    microseconds out of order; the sequence number is the order. On PostgreSQL the link is
    one statement (`_LINK_SQL`); elsewhere (SQLite, where the write transaction already
    excludes every other writer) it is made here in Python. Each chain has its own head, so
    writers in two centres never wait for each other."""
    audit_keys = keys.audit_keys()
    actor = current_actor()
    entry = AuditEntry(
        centre_id=current_centre_id() if centre is _FROM_CONTEXT else centre_id(centre),
        at=clock.now(),
        username=actor.username,
        role=actor.role,
        action=action,
        target=target[:120],
        client_code=client_code,
        ip=actor.ip,
        detail=json.loads(json.dumps(detail, default=str)),
        key_id=audit_keys.current_id,
    )
    key = _entry_key(entry, audit_keys.current)
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql" and _link_in_database(entry, key):
            return entry
        seq, prev_hash = _lock_head(entry.centre_id)
        entry.seq, entry.prev_hash = seq + 1, prev_hash
        entry.hash = chain.link(key, prev_hash, entry.seq)
        _append(entry)
        entry._state.adding = False
        entry._state.db = connection.alias
    return entry


def _reason(message: str, **params) -> str:
    """A reason shown on the manager's screen in their language (commands print English)."""
    return lazy(lambda: gettext(message) % params, str)()


@dataclass(frozen=True)
class Break:
    """Where a chain does not hold: the chain (`centre`, its code; None for the region's),
    the entry's sequence number in it and, when the entry is there, its id."""

    seq: int
    reason: str
    centre: str | None = None
    entry: int | None = None

    @property
    def chain(self) -> str:
        """ "centre C01, id 812": the entry's chain and, when the entry is there, its id."""
        name = f"centre {self.centre}" if self.centre is not None else "region"
        return name + (f", id {self.entry}" if self.entry is not None else "")

    @property
    def where(self) -> str:
        return f"entry {self.seq} ({self.chain})"


@dataclass
class Report:
    """What a walk of the log found. `checkpoints_matched` counts the signed checkpoints
    the log still agrees with; `unkeyed` the entries written before the chain was keyed;
    `chains` what each chain alone found, the region's first, then by centre code."""

    breaks: list[Break] = field(default_factory=list)
    total: int = 0
    unkeyed: int = 0
    checkpoints_matched: int = 0
    centre: str | None = None
    chains: list[Report] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


# (entry missing, an earlier checkpoint still matches) -> what the break says
_DIVERGED = {
    (False, False): gettext_noop(
        "differs from the signed checkpoint of %(date)s: the log was rewritten at or before"
        " this entry"
    ),
    (False, True): gettext_noop(
        "differs from the signed checkpoint of %(date)s: the log was rewritten after entry"
        " %(after_seq)d, which the checkpoint of %(after_date)s still matches, and at or"
        " before this entry"
    ),
    (True, False): gettext_noop(
        "named by the signed checkpoint of %(date)s but no longer in the log: entries were"
        " removed at or before it"
    ),
    (True, True): gettext_noop(
        "named by the signed checkpoint of %(date)s but no longer in the log: entries were"
        " removed after entry %(after_seq)d, which the checkpoint of %(after_date)s still"
        " matches, and at or before this one"
    ),
}


class Walk:
    """One pass over one chain's entries in sequence order, with the checkpoints it must
    meet. `start_at` begins part-way (a checkpoint's entry) instead of at the first entry.
    `centre` (a code; None for the region's chain) is named by every break."""

    def __init__(self, checkpoints: Iterable = (), centre: str | None = None) -> None:
        self.report = Report(centre=centre)
        self.entry_id: int | None = None
        self.prev, self.expected = GENESIS, 1
        self.keys: dict[str, tuple[int, bytes]] | None = None
        self.newest_age: int | None = None  # of the keys used so far
        self.pending = sorted(checkpoints, key=lambda c: c.seq)
        self.last_match = None  # the last checkpoint the log agreed with
        while self.pending and self.pending[0].seq < 1:  # taken while the log was empty
            self._meet(self.pending.pop(0), None)

    def start_at(self, seq: int, prev: str) -> None:
        self.expected, self.prev = seq, prev

    def _break(self, seq: int, message: str, **params) -> None:
        self.report.breaks.append(
            Break(seq, _reason(message, **params), self.report.centre, self.entry_id)
        )

    def _key(self, entry: AuditEntry) -> bytes | None:
        if self.keys is None:
            self.keys = keys.audit_keys().by_id()
        found = self.keys.get(entry.key_id)
        if found is None:
            self._break(
                entry.seq,
                gettext_noop("linked with audit key %(key)s, which is not configured"),
                key=entry.key_id,
            )
            return None
        age, key = found
        if self.newest_age is not None and age > self.newest_age:
            self._break(
                entry.seq, gettext_noop("linked with an older audit key than an entry before it")
            )
        self.newest_age = age if self.newest_age is None else min(age, self.newest_age)
        return key

    def _link(self, entry: AuditEntry) -> str | None:
        if entry.key_id is None:
            if self.newest_age is not None:
                self._break(entry.seq, gettext_noop("unkeyed entry after keyed entries"))
            self.report.unkeyed += 1
            return chain.legacy_digest(
                entry.prev_hash, entry.seq, entry.at.isoformat(), _fields(entry)
            )
        key = self._key(entry)
        if key is None:
            return None
        return chain.link(_entry_key(entry, key), entry.prev_hash, entry.seq)

    def entry(self, entry: AuditEntry) -> None:
        self.report.total += 1
        self.entry_id = entry.pk
        if entry.seq != self.expected:
            self._break(
                entry.seq,
                gettext_noop("entries %(first)d..%(last)d missing"),
                first=self.expected,
                last=entry.seq - 1,
            )
        if entry.prev_hash != self.prev:
            self._break(entry.seq, gettext_noop("link to the previous entry broken"))
        made = self._link(entry)
        if made is not None and made != entry.hash:
            self._break(entry.seq, gettext_noop("entry content changed after it was written"))
        while self.pending and self.pending[0].seq < entry.seq:
            self._diverged(self.pending.pop(0), missing=True)
        while self.pending and self.pending[0].seq == entry.seq:
            self._meet(self.pending.pop(0), entry)
        self.prev, self.expected = entry.hash, entry.seq + 1

    def _meet(self, checkpoint, entry: AuditEntry | None) -> None:
        head = entry.hash if entry is not None else GENESIS
        if checkpoint.head == head:
            self.report.checkpoints_matched += 1
            self.last_match = checkpoint
        else:
            self._diverged(checkpoint, missing=False)

    def _diverged(self, checkpoint, missing: bool) -> None:
        """A rewrite lies between the last checkpoint that still matches and this one."""
        after = self.last_match
        params = {"date": checkpoint.date, "seq": checkpoint.seq}
        if after is not None:
            params.update(after_seq=after.seq, after_date=after.date)
        message = _DIVERGED[(missing, after is not None)]
        self.report.breaks.append(
            Break(
                checkpoint.seq,
                _reason(message, **params),
                self.report.centre,
                None if missing else checkpoint.entry,
            )
        )

    def end(self, head: AuditHead | None) -> Report:
        self.entry_id = None
        last = self.expected - 1
        if head and head.seq != last:
            self._break(
                head.seq,
                gettext_noop("log ends at %(last)d but %(written)d were written"),
                last=last,
                written=head.seq,
            )
        for checkpoint in self.pending:
            self._diverged(checkpoint, missing=True)
        return self.report


def chain_codes() -> dict[int, str]:
    """Centre id -> code, to name each chain."""
    return dict(Centre.objects.values_list("pk", "code"))


def check(entries: Iterable[AuditEntry] | None = None, checkpoints: Iterable = ()) -> Report:
    """Walk every chain: every place one does not hold (edited, deleted, reordered, moved to
    another chain, re-linked under another key) and, given signed checkpoints
    (`anchor.read`), every one its chain no longer agrees with. `entries` may mix chains if
    each chain's come in sequence order. Raises `keys.AuditKeyError` if keyed entries exist
    and the audit key is not configured."""
    codes = chain_codes()
    walks: dict[str | None, Walk] = {}
    by_chain: dict[str | None, list] = {}
    for checkpoint in checkpoints:
        by_chain.setdefault(getattr(checkpoint, "centre", None), []).append(checkpoint)

    def code_of(centre_id: int | None) -> str | None:
        return None if centre_id is None else codes.get(centre_id, f"#{centre_id}")

    def walk_of(code: str | None) -> Walk:
        if code not in walks:
            walks[code] = Walk(by_chain.get(code, ()), centre=code)
        return walks[code]

    rows = entries if entries is not None else AuditEntry.objects.order_by("centre", "seq")
    if entries is None:
        rows = rows.iterator(chunk_size=2000)
    for entry in rows:
        walk_of(code_of(entry.centre_id)).entry(entry)
    heads = {code_of(head.centre_id): head for head in AuditHead.objects.all()}
    for code in [*heads, *by_chain]:
        walk_of(code)
    report = Report()
    for code in sorted(walks, key=lambda c: (c is not None, c or "")):
        part = walks[code].end(heads.get(code))
        report.chains.append(part)
        report.breaks += part.breaks
        report.total += part.total
        report.unkeyed += part.unkeyed
        report.checkpoints_matched += part.checkpoints_matched
    return report


def verify(entries: Iterable[AuditEntry] | None = None) -> list[Break]:
    """Every place a chain does not hold (`check` without checkpoints)."""
    return check(entries).breaks
