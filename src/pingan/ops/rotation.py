"""Re-encrypting every encrypted field under the newest key, and reporting key usage.

Rows are found and rewritten with plain SQL on the raw column, so the rotation neither
decrypts through the ORM twice nor fires the row-level audit capture for thousands of
rows: it writes one summary entry per run instead. Each batch is its own transaction and
only rows not yet under the newest key are selected, so an interrupted run resumes where it
stopped when started again. One rotation runs at a time (`rotation_lock`); the lock dies
with its process, so a killed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from pingan.core.crypto import PREFIX_SEP, Keyring, key_id, keyring
from pingan.core.fields import EncryptedTextField

KEY_ID_LENGTH = len(key_id(b"length probe"))


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"


def encrypted_columns() -> list[EncryptedColumn]:
    """Every EncryptedTextField of every installed, concrete model."""
    return [
        EncryptedColumn(model, f)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]


def _names(col: EncryptedColumn) -> tuple[str, str, str]:
    q = connection.ops.quote_name
    return q(col.model._meta.db_table), q(col.model._meta.pk.column), q(col.field.column)


def key_usage(col: EncryptedColumn) -> Counter[str]:
    """Row count per key id ('' for empty values) of one column, counted in the database."""
    table, _pk, column = _names(col)
    sep = len(PREFIX_SEP)
    with connection.cursor() as cursor:
        # Key ids have a fixed length (crypto.key_id), so the prefix is a plain substring.
        cursor.execute(
            f"SELECT SUBSTR({column}, 1, %s), COUNT(*) FROM {table} "  # noqa: S608
            f"GROUP BY SUBSTR({column}, 1, %s)",
            [KEY_ID_LENGTH + sep, KEY_ID_LENGTH + sep],
        )
        counts: Counter[str] = Counter()
        for prefix, n in cursor.fetchall():
            counts[(prefix or "").removesuffix(PREFIX_SEP) if prefix else ""] += n
    return counts


def unknown_keys(ring: Keyring | None = None) -> dict[str, Counter[str]]:
    """Per column, the values under key ids that are not configured (none: {})."""
    ring = ring or keyring()
    found = {}
    for col in encrypted_columns():
        usage = Counter(
            {kid: n for kid, n in key_usage(col).items() if kid and kid not in ring.ids}
        )
        if usage:
            found[col.label] = usage
    return found


def sample_values(col: EncryptedColumn) -> dict[str, tuple[int, str]]:
    """One stored value per key id of a column: {key id: (primary key, stored value)}."""
    table, pk, column = _names(col)
    samples = {}
    for kid in key_usage(col):
        if not kid:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} LIKE %s "  # noqa: S608
                f"ORDER BY {pk} LIMIT 1",
                [kid + PREFIX_SEP + "%"],
            )
            row = cursor.fetchone()
        if row:
            samples[kid] = (row[0], row[1])
    return samples


class RotationBusy(Exception):
    """Another rotation holds the lock."""


# An arbitrary constant naming the lock among PostgreSQL's advisory locks.
PG_LOCK = 0x50494E47


@contextmanager
def rotation_lock():
    """Hold the one-rotation-at-a-time lock, or raise RotationBusy at once.

    PostgreSQL: a session advisory lock; SQLite: an flock on a file beside the database.
    Both are released by the operating system or the server when the process dies."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [PG_LOCK])
            if not cursor.fetchone()[0]:
                raise RotationBusy(_("Another key rotation is running."))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [PG_LOCK])
        return
    fd = os.open(f"{connection.settings_dict['NAME']}.rotation-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationBusy(_("Another key rotation is running.")) from None
        yield
    finally:
        os.close(fd)


def _pending_batch(col: EncryptedColumn, ring: Keyring, size: int) -> list[tuple[int, str]]:
    table, pk, column = _names(col)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {column} FROM {table} "  # noqa: S608
            f"WHERE {column} IS NOT NULL AND {column} <> '' AND {column} NOT LIKE %s "
            f"ORDER BY {pk} LIMIT %s{lock}",
            [ring.current_id + PREFIX_SEP + "%", size],
        )
        return list(cursor.fetchall())


def pending_rows(col: EncryptedColumn, ring: Keyring | None = None) -> int:
    ring = ring or keyring()
    table, _pk, column = _names(col)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
            f"AND {column} <> '' AND {column} NOT LIKE %s",
            [ring.current_id + PREFIX_SEP + "%"],
        )
        return cursor.fetchone()[0]


def rotate_column(
    col: EncryptedColumn,
    batch: int = 500,
    before_row: Callable[[int], None] | None = None,
) -> Iterator[int]:
    """Re-encrypt one column batch by batch; yields the size of each committed batch.

    `before_row` is called with each row's key before it is rewritten (progress, tests)."""
    ring = keyring()
    table, pk, column = _names(col)
    while True:
        with transaction.atomic():
            rows = _pending_batch(col, ring, batch)
            if not rows:
                return
            with connection.cursor() as cursor:
                for row_pk, stored in rows:
                    if before_row is not None:
                        before_row(row_pk)
                    plain = ring.decrypt(stored, where=f"{col.label} #{row_pk}")
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                        [ring.encrypt(plain), row_pk],
                    )
        yield len(rows)


def rebuild_national_id_index(batch: int = 500) -> int:
    """Recompute the blind indexes of every identity (national ID and phone); returns how
    many changed.

    The index is keyed by the oldest configured key, so it changes only when the operator
    retires that key; running it at other times changes nothing."""
    from pingan.registry.actions import phone_index
    from pingan.registry.models import Identity
    from pingan.registry.rules import normalise_national_id

    ring = keyring()
    changed = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Identity.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "national_id", "national_id_index", "phone", "phone_index")[:batch]
            )
            if not rows:
                return changed
            for identity in rows:
                number = normalise_national_id(identity.national_id or "")
                wanted = ring.hmac_index(number) if number else ""
                phone = phone_index(identity.phone or "")
                if (wanted, phone) != (identity.national_id_index, identity.phone_index):
                    Identity.objects.filter(pk=identity.pk).update(
                        national_id_index=wanted, phone_index=phone
                    )
                    changed += 1
            last_pk = rows[-1].pk
