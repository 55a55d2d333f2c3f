"""The outbox: queueing the day's PIN messages, sending what is queued, reconciling what a
stopped run left in the gateway's hands, and staff's decisions on it.

Exactly once, across concurrent runs and crashes (docs/sms-gateway.md):
- queueing inserts one row per due PIN (unique key box+day); a run counts only the rows
  it inserted itself;
- a run claims a message with one conditional UPDATE (`status = queued` and its time has
  come) whose row count says whether this run won it; the same commit records the
  handover (`handed_at`, the run's lease), immediately before the gateway call. Two runs
  can never both win: PostgreSQL re-checks the condition on the row once the first
  claim commits, and SQLite's IMMEDIATE transactions take its write lock one at a time;
- nothing is ever re-sent automatically once handed over: a run that stopped inside
  the gateway call leaves the message "sending" until its lease is over; then a delivery
  report settles it, or it becomes *needs checking* for staff to confirm or send again;
- a message is sent only on or before its day, judged at the moment of the handover, so
  a run that goes past midnight stops sending yesterday's codes and marks them expired."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.audit.signals import capture_paused, target_of
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.lockbox import pin
from pingan.lockbox.models import Box, LockboxSettings
from pingan.registry.models import Consent, Identity, Purpose

from . import rules
from .backends import Backend, Handover, Outgoing, get_backend
from .composing import compose_parts, insert_queued, pin_key
from .models import DeliveryReport, Reason, SmsMessage, Status


@dataclass
class QueueRun:
    day: date
    queued: int = 0
    already: int = 0
    too_early: bool = False
    day_passed: bool = False
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
    """Queue one PIN message per due box for the day (idempotent); never for a past day."""
    now = now or clock.now()
    run = QueueRun(day)
    today = timezone.localdate(now)
    if day < today:
        run.day_passed = True
        return run
    if not ignore_hour and day == today:
        if timezone.localtime(now).hour < LockboxSettings.current().sms_hour:
            run.too_early = True
            return run
    boxes = list(
        due_boxes(day).values_list("pk", _stored("secret"), "client_id", "client__language")
    )
    done = set(
        SmsMessage.objects.filter(day=day, purpose="pin").values_list("dedupe_key", flat=True)
    )
    todo = [b for b in boxes if pin_key(b[0], day) not in done]
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
    composed = 0
    with transaction.atomic(), capture_paused():
        # Chunks are inserted as the workers finish them, so the database work overlaps
        # the encryption; the transaction keeps the run all-or-nothing.
        for part in compose_parts(jobs, pin.day_number(day)):
            rows = []
            for result in part:
                if isinstance(result, str):
                    run.skipped[result] = run.skipped.get(result, 0) + 1
                else:
                    rows.append(result)
            composed += len(rows)
            run.queued += insert_queued(rows, day, now)
        # Rows a concurrent run inserted first are theirs: this run queued only its own.
        run.already = len(boxes) - len(todo) + composed - run.queued
        # The phone numbers were read from the vault to address the messages.
        record(
            "sms_queue",
            day=day.isoformat(),
            queued=run.queued,
            already=run.already,
            phones_read=composed,
        )
    return run


@dataclass
class SendRun:
    owner: str
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    expired: int = 0
    unknown: int = 0  # moved to "needs checking" by this run
    settled: int = 0  # a stopped run's message, settled by its delivery report
    errors: list[str] = field(default_factory=list)


def run_owner() -> str:
    """The name a sending run writes into its leases: machine, process and a random part
    (a process id alone comes back after a restart)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def send_queued(backend: Backend | None = None, retry_now: bool = False) -> SendRun:
    """Reconcile what stopped runs left, expire past days, then hand every due message to
    the gateway, one claimed message at a time. The time is read at each handover."""
    backend = backend or get_backend()
    run = SendRun(run_owner())
    try:
        reconcile(run)
        expire_past_days(run)
        for message_pk in _due(retry_now):
            message = _claim(message_pk, backend, run, retry_now)
            if message is not None:
                handover = backend.send(Outgoing(message.to, message.text, message.dlr_token))
                _settle(message_pk, handover, run)
    finally:
        backend.close()
    with transaction.atomic():
        record(
            "sms_send",
            run=run.owner,
            backend=backend.name,
            sent=run.sent,
            retry_later=run.retry_later,
            failed=run.failed,
            expired=run.expired,
            unknown=run.unknown,
            settled=run.settled,
        )
    return run


def _due(retry_now: bool) -> list[int]:
    due = Q(status=Status.QUEUED)
    if not retry_now:
        due &= Q(next_attempt_at__lte=clock.now())
    rows = SmsMessage.objects.filter(due).order_by("next_attempt_at", "pk")
    return list(rows.values_list("pk", flat=True))


def _claim(pk: int, backend: Backend, run: SendRun, retry_now: bool) -> SmsMessage | None:
    """Take the message for this run and record its handover, or None if another run has
    it, or its day has passed (then it is expired here)."""
    now = clock.now()
    today = timezone.localdate(now)
    waiting = SmsMessage.objects.filter(pk=pk, status=Status.QUEUED)
    if not retry_now:
        waiting = waiting.filter(next_attempt_at__lte=now)
    with transaction.atomic():
        # The WHERE holds only the row's own columns, so PostgreSQL re-checks all of it
        # on the row a concurrent claim has just committed.
        taken = waiting.filter(Q(day__isnull=True) | Q(day__gte=today)).update(
            status=Status.SENDING,
            lease_owner=run.owner,
            lease_until=now + rules.HANDOVER_LEASE,
            handed_at=now,
            attempts=F("attempts") + 1,
            backend=backend.name,
            dlr_requested=backend.requests_reports,
            reason="",
        )
        if not taken:
            run.expired += waiting.filter(day__lt=today).update(
                status=Status.EXPIRED, reason=Reason.DAY_PASSED
            )
            return None
        message = SmsMessage.objects.select_related("client").get(pk=pk)
        # The number is read from the outbox to hand it over.
        record(
            "sms_handover",
            target=target_of(message),
            client_code=message.client.code if message.client else "",
            run=run.owner,
            attempt=message.attempts,
        )
    return message


def _settle(pk: int, handover: Handover, run: SendRun) -> None:
    """Record the gateway's answer. Only the run holding the message moves its state (a
    delivery report may have settled it meanwhile); a late answer still counts even if
    another run already found the lease over and asked staff to check."""
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=pk)
        held = message.lease_owner == run.owner
        mine = held and message.status in (Status.SENDING, Status.UNKNOWN)
        if handover.ok:
            run.sent += 1
            message.sent_at, message.gateway_id = clock.now(), handover.gateway_id
            if mine:
                message.status, message.reason, message.last_error = Status.SENT, "", ""
        elif handover.uncertain:
            # The gateway may have it: never back to the queue.
            message.last_error = handover.error
            run.errors.append(handover.error)
            if mine and message.dlr_requested:
                message.lease_until = clock.now()  # over: a report, or staff, will settle it
            elif mine:
                message.status, message.reason = Status.UNKNOWN, Reason.NO_ANSWER
                run.unknown += 1
        else:
            message.last_error = handover.error
            run.errors.append(handover.error)
            if mine:
                message.handed_at = None  # refused: it never was in the gateway's hands
            if mine and message.attempts >= rules.MAX_ATTEMPTS:
                message.status = Status.FAILED
                run.failed += 1
            elif mine:
                message.status = Status.QUEUED
                message.next_attempt_at = rules.next_attempt(message.attempts, clock.now())
                run.retry_later += 1
        if held and message.status not in (Status.SENDING, Status.UNKNOWN):
            message.lease_owner, message.lease_until = "", None
        message.save(
            update_fields=[
                "status",
                "reason",
                "handed_at",
                "sent_at",
                "gateway_id",
                "last_error",
                "next_attempt_at",
                "lease_owner",
                "lease_until",
            ]
        )


def reconcile(run: SendRun) -> None:
    """Settle the messages of runs that stopped while the gateway held them (their lease
    is over), from the gateway's delivery reports only (`rules.reconcile`)."""
    now = clock.now()
    reported = Exists(DeliveryReport.objects.filter(message=OuterRef("pk")))
    with transaction.atomic():
        # PostgreSQL: rows another run is reconciling are skipped; SQLite: the write lock
        # of this transaction already keeps every other writer out.
        stale = (
            SmsMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.SENDING, lease_until__lt=now)
            .annotate(reported=reported)
            .values_list("pk", "external_id", "reported", "dlr_requested", "handed_at")
        )
        decided: dict[tuple[str, str], list] = {}
        for pk, external_id, was_reported, dlr_requested, handed_at in stale:
            settlement = rules.reconcile(was_reported, dlr_requested, handed_at, now)
            if settlement.status is not None:
                key = (settlement.status, settlement.reason)
                decided.setdefault(key, []).append((pk, str(external_id)))
        if not decided:
            return
        detail: dict[str, list[str]] = {}
        for (status, reason), rows in decided.items():
            changes = {"status": status, "reason": reason}
            if status == Status.SENT:
                changes.update(lease_owner="", lease_until=None, last_error="")
            pks = [pk for pk, _external in rows]
            count = SmsMessage.objects.filter(pk__in=pks, status=Status.SENDING).update(**changes)
            if status == Status.SENT:
                run.settled += count
            else:
                run.unknown += count
            detail.setdefault(status, []).extend(external for _pk, external in rows)
        record("sms_reconcile", run=run.owner, **detail)


def expire_past_days(run: SendRun) -> None:
    """Queued messages for a day that has passed are never sent: they expire, visibly."""
    run.expired += SmsMessage.objects.filter(status=Status.QUEUED, day__lt=clock.today()).update(
        status=Status.EXPIRED, reason=Reason.DAY_PASSED
    )


RETRYABLE = (Status.FAILED, Status.QUEUED, Status.UNKNOWN)


def retry(message: SmsMessage, user) -> SmsMessage:
    """Staff put a failed, waiting or unconfirmed message back at the front of the queue.
    For an unconfirmed one that is their decision to send it (perhaps) a second time."""
    require(user, "manage_messaging")
    with acting(user), transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message.pk)
        if message.status not in RETRYABLE:
            raise Refusal(
                _("Only a failed, waiting or unconfirmed message can be sent again."),
                code="not_retryable",
            )
        if message.day and message.day < clock.today():
            raise Refusal(
                _("Its day has passed: a past day's code is never sent."), code="day_passed"
            )
        was = message.status
        message.status, message.next_attempt_at = Status.QUEUED, clock.now()
        message.attempts = 0
        message.lease_owner, message.lease_until = "", None
        if was == Status.UNKNOWN:
            message.reason = Reason.REQUEUED
        message.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "attempts",
                "lease_owner",
                "lease_until",
                "reason",
            ]
        )
        record("sms_retry", target=target_of(message), was=was)
    return message


def confirm_sent(message: SmsMessage, user) -> SmsMessage:
    """Staff checked the gateway's log and found that an unconfirmed message went out."""
    require(user, "manage_messaging")
    with acting(user), transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != Status.UNKNOWN:
            raise Refusal(
                _("Only a message that needs checking can be confirmed."), code="not_unknown"
            )
        message.status, message.reason = Status.SENT, Reason.CONFIRMED
        message.lease_owner, message.lease_until = "", None
        message.save(update_fields=["status", "reason", "lease_owner", "lease_until"])
        record("sms_confirm", target=target_of(message))
    return message


# Kannel's report codes (rules.REPORT_CODES): what each does to the message.
_REPORT_STATUS = {1: Status.DELIVERED, 2: Status.FAILED, 16: Status.FAILED, 8: Status.SENT}


def record_delivery_report(token: str, status: int, detail: str = "") -> bool:
    """Store a gateway report against the message named by its token; False if unknown."""
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(dlr_token=token).first()
        if message is None:
            return False
        DeliveryReport.objects.create(message=message, status=status, detail=detail[:200])
        new = _REPORT_STATUS.get(status)
        if message.status == Status.EXPIRED:
            pass  # never handed over: nothing a report could settle
        elif new == Status.DELIVERED:
            message.status, message.delivered_at = Status.DELIVERED, clock.now()
            message.reason = ""
        elif new == Status.SENT and message.status in (
            Status.SENDING,
            Status.QUEUED,
            Status.UNKNOWN,
        ):
            message.status, message.reason = Status.SENT, ""
        elif new == Status.FAILED and message.status != Status.DELIVERED:
            message.status, message.reason = Status.FAILED, Reason.REPORTED_FAILED
            message.last_error = f"gateway report {status}"
        if message.status not in (Status.SENDING, Status.UNKNOWN):
            message.lease_owner, message.lease_until = "", None
        message.save(
            update_fields=[
                "status",
                "delivered_at",
                "last_error",
                "reason",
                "lease_owner",
                "lease_until",
            ]
        )
    return True
