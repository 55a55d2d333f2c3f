"""The outbox: queueing the day's PIN messages and sending what is queued.

Exactly once, across crashes: each due PIN is one row (unique dedupe key box+day), so
queueing twice queues nothing new; sending commits `sending` before the gateway call and
`sent` after it, so a re-run never resends a message the gateway took, except one caught
inside the call and never confirmed by a delivery report within the grace period (then a
second copy of the same code is the safe side: a client without the code cannot open
the box)."""

from __future__ import annotations

import multiprocessing
import os
import re
import secrets
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers
from django.db import connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from pingan.audit.log import record
from pingan.audit.signals import capture_paused
from pingan.core import clock
from pingan.core.crypto import keyring
from pingan.lockbox import pin
from pingan.lockbox.models import Box, LockboxSettings
from pingan.registry.models import Consent, Identity, Purpose

from . import rules
from .backends import Backend, Outgoing, get_backend
from .models import DeliveryReport, SmsMessage, Status

BATCH = 500  # 17 columns × 500 rows stays under SQLite's 32,766 bound parameters


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


@dataclass
class QueueRun:
    day: date
    queued: int = 0
    already: int = 0
    too_early: bool = False
    skipped: dict[str, int] = field(default_factory=dict)


def due_boxes(day: date):
    """Active boxes holding a take-home bottle for the day, whose client consents to texts."""
    sms_consent = Consent.objects.filter(purpose=Purpose.SMS, revoked_on__isnull=True)
    return (
        Box.objects.filter(retired_on__isnull=True, client__isnull=False, bottles__day=day)
        .filter(client_id__in=sms_consent.values("client_id"))
        .distinct()
    )


def _stored(column: str) -> Cast:
    """An encrypted column as stored (no decryption by the field): `compose` decrypts,
    in parallel when the run is large."""
    return Cast(column, TextField())


def queue_due_pins(day: date, now: datetime | None = None, ignore_hour: bool = False) -> QueueRun:
    """Queue one PIN message per due box for the day (idempotent)."""
    now = now or clock.now()
    run = QueueRun(day)
    if not ignore_hour and day == timezone.localdate(now):
        if timezone.localtime(now).hour < LockboxSettings.current().sms_hour:
            run.too_early = True
            return run
    boxes = list(
        due_boxes(day).values_list("pk", _stored("secret"), "client_id", "client__language")
    )
    done = set(
        SmsMessage.objects.filter(day=day, purpose="pin").values_list("dedupe_key", flat=True)
    )
    todo = [b for b in boxes if _key(b[0], day) not in done]
    run.already = len(boxes) - len(todo)
    phones = (
        dict(
            Identity.objects.filter(client_id__in=due_boxes(day).values("client_id"))
            .exclude(phone="")
            .values_list("client_id", _stored("phone"))
        )
        if todo
        else {}
    )
    jobs = [(pk, secret, cid, lang, phones.get(cid)) for pk, secret, cid, lang in todo]
    counter = pin.day_number(day)
    with transaction.atomic(), capture_paused():
        # Chunks are inserted as the workers finish them, so the database work overlaps
        # the encryption; the transaction keeps the run all-or-nothing.
        for part in compose_parts(jobs, counter):
            rows = []
            for result in part:
                if isinstance(result, str):
                    run.skipped[result] = run.skipped.get(result, 0) + 1
                else:
                    rows.append(result)
            _insert(rows, day, now)
            run.queued += len(rows)
        # The phone numbers were read from the vault to address the messages.
        record("sms_queue", day=day.isoformat(), queued=run.queued, phones_read=run.queued)
    return run


PARALLEL_FROM = 5000


CHUNK = 2500  # messages per worker task: small enough to start inserting early


def compose(jobs: list[tuple], counter: int, parallel_from: int = PARALLEL_FROM) -> list:
    """Decrypt secret and phone, derive the PIN, encrypt number and text, for every job.

    Each result is a row for `_insert`, or the reason the message was skipped."""
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


def _insert(rows: list[tuple], day: date, now: datetime) -> None:
    """One multi-row INSERT … ON CONFLICT DO NOTHING per batch, the values already
    encrypted: the ORM's per-field preparation costs more than the whole PIN derivation
    at 50,000 boxes (bench/pins.py). A concurrent run's rows win the dedupe key."""
    ops = connection.ops
    table = connection.ops.quote_name(SmsMessage._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    created = ops.adapt_datetimefield_value(now)
    day_value = ops.adapt_datefield_value(day)
    as_uuid = connection.vendor != "sqlite"  # SQLite stores the 32 hex digits
    per_row = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
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
                    _key(box_pk, day),
                    box_pk,
                    day_value,
                    Status.QUEUED,
                    0,
                    created,
                    "",
                    "",
                    "",
                    token,
                ]
            values = ", ".join([per_row] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "
                f"ON CONFLICT ({ops.quote_name('dedupe_key')}) DO NOTHING",
                params,
            )


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
    "dlr_token",
)


def _key(box_pk: int, day: date) -> str:
    return f"pin:{box_pk}:{day.isoformat()}"


@dataclass
class SendRun:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def sendable(now: datetime, retry_now: bool = False):
    """Queued messages whose time has come, and handovers never confirmed (crash inside the
    gateway call) once the grace period has passed without a delivery report."""
    due = Q(status=Status.QUEUED) & (Q() if retry_now else Q(next_attempt_at__lte=now))
    lost = Q(status=Status.SENDING, handed_at__lt=now - rules.HANDOVER_GRACE, reports__isnull=True)
    return SmsMessage.objects.filter(due | lost).distinct().order_by("next_attempt_at", "pk")


def send_queued(
    now: datetime | None = None, backend: Backend | None = None, retry_now: bool = False
) -> SendRun:
    """Hand every sendable message to the gateway, one committed step at a time."""
    now = now or clock.now()
    backend = backend or get_backend()
    run = SendRun()
    try:
        for message_pk in list(sendable(now, retry_now).values_list("pk", flat=True)):
            _send_one(message_pk, now, backend, run)
    finally:
        backend.close()
    return run


def _send_one(message_pk: int, now: datetime, backend: Backend, run: SendRun) -> None:
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message_pk)
        if message.status not in (Status.QUEUED, Status.SENDING):
            return  # another worker took it meanwhile
        if message.day and message.day < timezone.localdate(now):
            message.status, message.last_error = Status.FAILED, "the day has passed"
            message.save(update_fields=["status", "last_error"])
            run.failed += 1
            return
        message.status, message.handed_at = Status.SENDING, now
        message.attempts += 1
        message.backend = backend.name
        message.save(update_fields=["status", "handed_at", "attempts", "backend"])
    handover = backend.send(Outgoing(message.to, message.text, message.dlr_token))
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message_pk)
        if handover.ok:
            if message.status == Status.SENDING:  # a report may have arrived already
                message.status = Status.SENT
            message.sent_at, message.gateway_id, message.last_error = (
                clock.now(),
                handover.gateway_id,
                "",
            )
            run.sent += 1
        elif message.attempts >= rules.MAX_ATTEMPTS:
            message.status, message.last_error = Status.FAILED, handover.error
            run.failed += 1
            run.errors.append(handover.error)
        else:
            message.status, message.last_error = Status.QUEUED, handover.error
            message.next_attempt_at = rules.next_attempt(message.attempts, now)
            run.retry_later += 1
            run.errors.append(handover.error)
        message.save(
            update_fields=["status", "sent_at", "gateway_id", "last_error", "next_attempt_at"]
        )


def retry(message: SmsMessage, user) -> SmsMessage:
    """Staff put a failed (or waiting) message back at the front of the queue."""
    from pingan.audit.context import acting_user

    with acting_user(user), transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message.pk)
        if message.status in (Status.FAILED, Status.QUEUED):
            message.status, message.next_attempt_at = Status.QUEUED, clock.now()
            message.attempts = 0
            message.save(update_fields=["status", "next_attempt_at", "attempts"])
            record("sms_retry", target=f"messaging.smsmessage:{message.external_id}")
    return message


# Kannel's report codes: 1 delivered, 2 failed, 4 buffered, 8 accepted by SMSC, 16 rejected.
_REPORT_STATUS = {1: Status.DELIVERED, 2: Status.FAILED, 16: Status.FAILED, 8: Status.SENT}


def record_delivery_report(token: str, status: int, detail: str = "") -> bool:
    """Store a gateway report against the message named by its token; False if unknown."""
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(dlr_token=token).first()
        if message is None:
            return False
        DeliveryReport.objects.create(message=message, status=status, detail=detail[:200])
        new = _REPORT_STATUS.get(status)
        if new == Status.DELIVERED:
            message.status, message.delivered_at = Status.DELIVERED, clock.now()
        elif new == Status.SENT and message.status in (Status.SENDING, Status.QUEUED):
            message.status = Status.SENT
        elif new == Status.FAILED and message.status != Status.DELIVERED:
            message.status, message.last_error = Status.FAILED, f"gateway report {status}"
        message.save(update_fields=["status", "delivered_at", "last_error"])
    return True
