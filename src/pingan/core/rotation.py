"""Re-encrypting every encrypted field under the newest key, and reporting key usage.

Rows are found and rewritten with plain SQL on the raw column, so the rotation neither
decrypts through the ORM twice nor fires the row-level audit capture for thousands of
rows: it writes one summary entry per run instead. Each batch is its own transaction and
only rows not yet under the newest key are selected, so an interrupted run resumes where it
stopped when started again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from .crypto import PREFIX_SEP, Keyring, key_id, keyring
from .fields import EncryptedTextField

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


@dataclass
class RotationResult:
    rewritten: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


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
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                        [ring.encrypt(ring.decrypt(stored)), row_pk],
                    )
        yield len(rows)


def rebuild_national_id_index(batch: int = 500) -> int:
    """Recompute the blind index of every identity; returns how many changed.

    The index is keyed by the oldest configured key, so it changes only when the operator
    retires that key; running it at other times changes nothing."""
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
                .only("pk", "national_id", "national_id_index")[:batch]
            )
            if not rows:
                return changed
            for identity in rows:
                number = normalise_national_id(identity.national_id or "")
                wanted = ring.hmac_index(number) if number else ""
                if wanted != identity.national_id_index:
                    Identity.objects.filter(pk=identity.pk).update(national_id_index=wanted)
                    changed += 1
            last_pk = rows[-1].pk
