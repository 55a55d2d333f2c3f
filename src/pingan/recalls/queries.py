"""Read models of the recalls: who holds take-home bottles, what a recalled client should
bring back, the centre's recall list and the monthly counts the bureau sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from pingan.core import clock
from pingan.registry.models import Client
from pingan.takehome.models import BottleStatus, Suspension, TakeHomeBottle

from . import rules
from .models import Recall, RecallStatus

DEFAULT_SHARE = Decimal("0.10")
DEFAULT_HORIZON_DAYS = 7


def share() -> Decimal:
    """The share of eligible clients drawn each week (setting `PINGAN_RECALL_SHARE`)."""
    return Decimal(str(getattr(settings, "PINGAN_RECALL_SHARE", DEFAULT_SHARE)))


def horizon_days() -> int:
    """How many days ahead a bottle makes its holder eligible (`PINGAN_RECALL_HORIZON_DAYS`)."""
    return int(getattr(settings, "PINGAN_RECALL_HORIZON_DAYS", DEFAULT_HORIZON_DAYS))


def holding_takehome(today: date | None = None, centre_id: int | None = None) -> list[Client]:
    """Clients who hold take-home bottles now: a bottle dispensed (not yet returned) for a
    day in the coming days, take-home not suspended, no recall still open. In code order;
    one centre's clients when `centre_id` is given."""
    today = today or clock.today()
    last = today + timedelta(days=horizon_days())
    holding = TakeHomeBottle.objects.filter(
        status=BottleStatus.DISPENSED, day__gt=today, day__lte=last
    ).values("client_id")
    suspended = Suspension.objects.filter(lifted_at__isnull=True).values("client_id")
    recalled = Recall.objects.filter(status=RecallStatus.OPEN).values("client_id")
    clients = Client.objects.all()
    if centre_id is not None:
        clients = clients.filter(centre_id=centre_id)
    return list(
        clients.filter(pk__in=holding)
        .exclude(pk__in=suspended)
        .exclude(pk__in=recalled)
        .defer("photo")
        .order_by("code")
    )


def holds_takehome(client: Client, today: date | None = None) -> bool:
    today = today or clock.today()
    return TakeHomeBottle.objects.filter(
        client=client, status=BottleStatus.DISPENSED, day__gt=today
    ).exists()


@dataclass(frozen=True)
class Expected:
    """What a recalled client should bring: every bottle still out (`outstanding`), of
    which those for the days after today (`ahead`) should still be full."""

    outstanding: int
    ahead: int
    ahead_ml: Decimal


def expected(client: Client, today: date | None = None) -> Expected:
    today = today or clock.today()
    out = TakeHomeBottle.objects.filter(client=client, status=BottleStatus.DISPENSED)
    ahead = out.filter(day__gt=today)
    ml = ahead.aggregate(ml=Sum("dose__volume_ml"))["ml"]
    return Expected(out.count(), ahead.count(), Decimal(ml or 0).quantize(Decimal("0.01")))


def notified_at(recall: Recall) -> datetime | None:
    """When the client was told: the text's hand-off to the gateway, else staff's call."""
    handed = recall.message.handed_at if recall.message_id else None
    return handed or recall.phoned_at


def due_at(recall: Recall) -> datetime | None:
    return rules.due_at(notified_at(recall))


def overdue(now: datetime | None = None):
    """Open recalls whose 24 hours since the client was told are over."""
    cutoff = (now or clock.now()) - rules.ANSWER_WITHIN
    return (
        Recall.objects.filter(status=RecallStatus.OPEN)
        .filter(Q(message__handed_at__lte=cutoff) | Q(phoned_at__lte=cutoff))
        .select_related("client")
        .order_by("made_at", "pk")
    )


@dataclass(frozen=True)
class Row:
    recall: Recall
    notified_at: datetime | None
    due_at: datetime | None
    to_phone: bool  # no text went out: staff phone the client


def centre_list(days: int = 60, centre_id: int | None = None) -> list[Row]:
    """Open recalls first (the earliest due on top), then those closed in the last `days`;
    of one centre's clients when `centre_id` is given."""
    since = clock.now() - timedelta(days=days)
    recalls = Recall.objects.all()
    if centre_id is not None:
        recalls = recalls.filter(client__centre_id=centre_id)
    found = (
        recalls.filter(Q(status=RecallStatus.OPEN) | Q(closed_at__gte=since))
        .select_related("client", "message", "draw")
        .defer("client__photo")
    )
    rows = []
    for recall in found:
        told = notified_at(recall)
        to_phone = recall.message_id is None and recall.phoned_at is None
        rows.append(Row(recall, told, rules.due_at(told), to_phone))
    open_ = [r for r in rows if r.recall.status == RecallStatus.OPEN]
    closed = [r for r in rows if r.recall.status != RecallStatus.OPEN]
    # Open: the earliest due first, those not told yet after them; closed: the latest first.
    open_.sort(key=lambda r: (r.due_at is None, r.due_at or r.recall.made_at, r.recall.pk))
    closed.sort(key=lambda r: r.recall.closed_at, reverse=True)
    return open_ + closed


def _month_start(month: date) -> datetime:
    return datetime.combine(month.replace(day=1), time.min, tzinfo=clock.localtime().tzinfo)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def monthly_counts(first: date, last: date) -> list[dict]:
    """For each month from `first` to `last` (any day of each), unsuppressed: recalls made,
    returned in full, incidents (returned short or missed). Months in the centre's time
    zone. Suppression for the police is the caller's (it lives in a higher layer)."""
    out = []
    month = first.replace(day=1)
    while month <= last:
        start, end = _month_start(month), _month_start(_next_month(month))
        made = Recall.objects.filter(made_at__gte=start, made_at__lt=end)
        counts = dict.fromkeys(RecallStatus.values, 0)
        for status in made.values_list("status", flat=True):
            counts[status] += 1
        out.append(
            {
                "month": month,
                "recalls": sum(counts.values()),
                "returned": counts[RecallStatus.RETURNED],
                "incidents": counts[RecallStatus.INCIDENT] + counts[RecallStatus.MISSED],
            }
        )
        month = _next_month(month)
    return out
