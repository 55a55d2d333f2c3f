"""Writing the day's PIN messages in bulk: decrypt each box secret and phone, derive the
PIN, encrypt number and text, insert the rows. The daily run does this for tens of
thousands of boxes (bench/pins.py), so it spreads the encryption over the cores and
inserts with plain multi-row SQL; actions.py decides what to queue and audits it."""

from __future__ import annotations

import multiprocessing
import os
import re
import secrets
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime

import phonenumbers
from django.db import connection

from pingan.core.crypto import keyring
from pingan.lockbox import pin

from . import rules
from .models import SmsMessage, Status

PARALLEL_FROM = 5000
CHUNK = 2500  # messages per worker task: small enough to start inserting early

_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")


def normalise_phone(raw: str) -> str | None:
    """E.164 (+8613…) for the gateway; None if the number cannot be a phone number.

    A mainland mobile number (the common case, checked by pattern because the daily run
    handles tens of thousands) skips the general parser."""
    compact = raw.replace(" ", "").replace("-", "")
    mobile = _MOBILE.fullmatch(compact)
    if mobile:
        return "+86" + mobile.group(1)
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def pin_key(box_pk: int, day: date) -> str:
    """The dedupe key of a box's PIN message for a day: one row per due PIN, ever."""
    return f"pin:{box_pk}:{day.isoformat()}"


def compose(jobs: list[tuple], counter: int, parallel_from: int = PARALLEL_FROM) -> list:
    """Decrypt secret and phone, derive the PIN, encrypt number and text, for every job
    `(box pk, stored secret, client id, language, stored phone)`.

    Each result is a row for `insert_queued`, or the reason the message was skipped."""
    return [row for part in compose_parts(jobs, counter, parallel_from) for row in part]


def compose_parts(jobs: list[tuple], counter: int, parallel_from: int = PARALLEL_FROM):
    """`compose` in chunks, in order, each yielded as soon as it is ready.

    Four authenticated-encryption operations per message are most of the daily run's
    cost, so a large run spreads them over the machine's cores (forked workers touch no
    database) while the caller inserts the chunks already done."""
    if len(jobs) < parallel_from or (os.cpu_count() or 1) < 2:
        yield _compose_chunk(jobs, counter)
        return
    workers = min(os.cpu_count() or 2, 8)
    size = min(CHUNK, -(-len(jobs) // workers))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_compose_chunk, chunks, [counter] * len(chunks))


def _compose_chunk(jobs: list[tuple], counter: int) -> list:
    keys = keyring()
    out: list = []
    for box_pk, secret, client_id, language, phone_stored in jobs:
        if not phone_stored:
            out.append("no phone")
            continue
        phone = normalise_phone(keys.decrypt(phone_stored))
        if phone is None:
            out.append("invalid phone")
            continue
        code = pin.hotp(bytes.fromhex(keys.decrypt(secret)), counter)
        text = rules.pin_text(language, code)
        out.append(
            (
                client_id,
                keys.encrypt(phone),
                keys.encrypt(text),
                language,
                box_pk,
                uuid.uuid4().hex,
                secrets.token_hex(16),
            )
        )
    return out


_INSERT_COLUMNS = (
    "external_id",
    "created_at",
    "client_id",
    "to",
    "text",
    "language",
    "purpose",
    "dedupe_key",
    "box_id",
    "day",
    "status",
    "attempts",
    "next_attempt_at",
    "backend",
    "gateway_id",
    "last_error",
    "reason",
    "dlr_token",
    "lease_owner",
    "dlr_requested",
)
BATCH = 500  # 20 columns × 500 rows stays under SQLite's 32,766 bound parameters


def insert_queued(rows: list[tuple], day: date, now: datetime) -> int:
    """Insert composed rows as queued PIN messages; the number actually inserted.

    One multi-row INSERT … ON CONFLICT DO NOTHING per batch, the values already
    encrypted: the ORM's per-field preparation costs more than the whole PIN derivation
    at 50,000 boxes (bench/pins.py). A row whose dedupe key exists (queued by an earlier
    or a concurrent run) is left out, and not counted: both databases report the rows an
    INSERT … ON CONFLICT DO NOTHING really inserted."""
    ops = connection.ops
    table = ops.quote_name(SmsMessage._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    created = ops.adapt_datetimefield_value(now)
    day_value = ops.adapt_datefield_value(day)
    as_uuid = connection.vendor != "sqlite"  # SQLite stores the 32 hex digits
    per_row = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            params = []
            for client_id, to, text, language, box_pk, external_id, token in chunk:
                params += [
                    uuid.UUID(external_id) if as_uuid else external_id,
                    created,
                    client_id,
                    to,
                    text,
                    language,
                    "pin",
                    pin_key(box_pk, day),
                    box_pk,
                    day_value,
                    Status.QUEUED,
                    0,
                    created,
                    "",
                    "",
                    "",
                    "",
                    token,
                    "",
                    False,
                ]
            values = ", ".join([per_row] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "
                f"ON CONFLICT ({ops.quote_name('dedupe_key')}) DO NOTHING",
                params,
            )
            inserted += cursor.rowcount
    return inserted
