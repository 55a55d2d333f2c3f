"""Read models of the detox unit: the bed board, a stay's ledger, today's doses, what was
delivered against what was advertised, the clinicians' monthly care report, and the
inputs of the unit's indicators (docs/indicators.md).

Indicator conventions (written once, here, and in docs/inpatient.md):
- an *occupied bed-day* is a date d on which a stay holds a bed overnight:
  admitted_on <= d < discharged_on (an open stay holds it every day up to the period's end);
- *bed-days* are, per bed in service, the dates of the period from `in_service_from` up to
  the day before `retired_on`; days after today are not counted in either;
- a stay's *length* is its number of nights (discharged_on - admitted_on);
- a discharge is a *readmission* when the same person (linked by the return card) was
  discharged from an earlier stay in the 365 days before this stay's admission.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from pingan.core import clock

from . import care
from .models import (
    Bed,
    CareEvent,
    CareKind,
    EntryKind,
    LedgerEntry,
    Room,
    Stay,
)

ZERO = Decimal("0.00")


# Ledger ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    charges: Decimal
    credits: Decimal
    payments: Decimal
    refunds: Decimal

    @property
    def owed(self) -> Decimal:
        return self.charges - self.credits

    @property
    def paid(self) -> Decimal:
        return self.payments - self.refunds

    @property
    def balance(self) -> Decimal:
        """Cash held minus what is owed: negative while the client owes, positive while
        the unit holds the client's money, zero when settled."""
        return self.paid - self.owed

    @property
    def due(self) -> Decimal:
        return max(ZERO, -self.balance)

    @property
    def credit(self) -> Decimal:
        return max(ZERO, self.balance)


def ledger(stay: Stay) -> Ledger:
    totals = dict(
        LedgerEntry.objects.filter(stay=stay)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    return Ledger(*(totals.get(kind) or ZERO for kind in EntryKind.values))


# Bed board and nurse's list ----------------------------------------------------------------


@dataclass
class BedRow:
    bed: Bed
    status: str  # occupied | reserved | free | cleaning
    stay: Stay | None = None
    nights: int = 0  # nights stayed so far
    overdue_days: int = 0  # nights beyond the planned days (0 while within the plan)

    @property
    def due_today(self) -> bool:
        """The planned days end today: discharge or extend before tonight."""
        return self.stay is not None and self.nights == self.stay.planned_days


@dataclass
class RoomRow:
    room: Room
    beds: list[BedRow] = field(default_factory=list)


def bed_board(
    today: date | None = None, centre_id: int | None = None
) -> tuple[list[RoomRow], Counter]:
    """Every bed in service by room, with its stay and how far the stay is past its
    planned days; `counts` also has "overdue", the open stays past their plan. With
    `centre_id`, only the rooms of that centre."""
    today = today or clock.today()
    open_stays = {
        s.bed_id: s
        for s in Stay.objects.filter(discharged_at__isnull=True).select_related("person")
    }
    rooms: dict[int, RoomRow] = {}
    counts: Counter = Counter()
    beds = Bed.objects.filter(retired_on__isnull=True).select_related("room")
    if centre_id is not None:
        beds = beds.filter(room__centre_id=centre_id)
    for bed in beds.order_by("room__name", "label"):
        stay = open_stays.get(bed.pk)
        status = "occupied" if stay else bed.state
        counts[status] += 1
        row = BedRow(bed, status, stay)
        if stay is not None:
            row.nights = max(0, (today - stay.admitted_on).days)
            row.overdue_days = max(0, row.nights - stay.planned_days)
            if row.overdue_days:
                counts["overdue"] += 1
        rooms.setdefault(bed.room_id, RoomRow(bed.room)).beds.append(row)
    return list(rooms.values()), counts


def open_stays():
    return (
        Stay.objects.filter(discharged_at__isnull=True)
        .select_related("person", "bed__room")
        .order_by("bed__room__name", "bed__label")
    )


@dataclass
class DoseRow:
    stay: Stay
    planned_mg: int | None
    given: object  # InpatientDose | None


def todays_doses(on: date | None = None) -> list[DoseRow]:
    on = on or clock.today()
    rows = []
    for stay in open_stays():
        given = stay.doses.filter(date=on).first()
        rows.append(DoseRow(stay, care.planned_mg(stay, on), given))
    return rows


# Delivered vs advertised -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    label: str
    delivered: int
    expected: int


def delivered(stay: Stay, today: date | None = None) -> tuple[int, list[Delivered]]:
    """What this stay received so far against the order and what the tariff advertises."""
    today = today or clock.today()
    end = stay.discharged_on or today
    days = max(1, (end - stay.admitted_on).days)
    counts = Counter(stay.care.values_list("kind", flat=True))
    doses = list(stay.doses.all())
    tariff = stay.tariff
    order_days = 0
    order = care.current_order(stay)
    if order is not None:
        order_days = max(0, (min(end, today) - order.start_on).days + 1)
    rows = [
        ("methadone_doses", len([d for d in doses if d.given_mg > 0]), order_days),
        ("methadone_mg", sum(d.given_mg for d in doses), sum(d.planned_mg for d in doses)),
        (
            "psychiatric_review",
            counts[CareKind.PSYCHIATRIC_REVIEW],
            round(days * tariff.advertised_psych_reviews_per_week / 7),
        ),
        (
            "behavioural_session",
            counts[CareKind.BEHAVIOURAL_SESSION],
            round(days * tariff.advertised_sessions_per_week / 7),
        ),
    ]
    return days, [Delivered(*row) for row in rows]


# Care per clinician ------------------------------------------------------------------------


def _month_bounds(month: date | str) -> tuple[date, date]:
    if isinstance(month, str):
        year, mon = (int(part) for part in month.split("-")[:2])
        month = date(year, mon, 1)
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _aware_range(first: date, last: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


@dataclass
class ClinicianCare:
    username: str
    patients: int
    by_kind: dict[str, int]
    total: int


def care_report(month: date | str) -> list[ClinicianCare]:
    """Per clinician for the month: distinct patients seen and care events by kind."""
    start, end = _aware_range(*_month_bounds(month))
    people: dict[str, set] = defaultdict(set)
    kinds: dict[str, Counter] = defaultdict(Counter)
    events = CareEvent.objects.filter(at__gte=start, at__lt=end).values_list(
        "clinician__username", "stay__person_id", "kind"
    )
    for username, person, kind in events:
        people[username].add(person)
        kinds[username][kind] += 1
    return [
        ClinicianCare(
            name,
            len(people[name]),
            {k: kinds[name][k] for k in CareKind.values},
            sum(kinds[name].values()),
        )
        for name in sorted(people)
    ]


# Indicator inputs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One indicator value with its parts; `value` is None when the denominator is 0.
    Counts and sums have no denominator (None) and their value is the numerator."""

    numerator: int | Decimal
    denominator: int | None
    value: float | Decimal | int | None


def _ratio(numerator: int, denominator: int) -> Measure:
    return Measure(numerator, denominator, numerator / denominator if denominator else None)


def _overlap(start: date, end_exclusive: date, first: date, last_exclusive: date) -> int:
    return max(0, (min(end_exclusive, last_exclusive) - max(start, first)).days)


def _stays(centre_id: int | None):
    """The ward's stays, of one centre's ward when `centre_id` is given (through the room
    of the bed), every centre's otherwise."""
    rows = Stay.objects.all()
    return rows if centre_id is None else rows.filter(bed__room__centre_id=centre_id)


def occupancy(
    month: date | str, today: date | None = None, centre_id: int | None = None
) -> Measure:
    """Occupied bed-days ÷ bed-days in the month (up to today), of one centre's ward when
    `centre_id` is given."""
    first, last = _month_bounds(month)
    today = today or clock.today()
    stop = min(last, today) + timedelta(days=1)
    if stop <= first:
        return _ratio(0, 0)
    stays = (
        _stays(centre_id)
        .filter(admitted_on__lt=stop)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gt=first))
    )
    occupied = sum(
        _overlap(admitted, discharged or stop, first, stop)
        for admitted, discharged in stays.values_list("admitted_on", "discharged_on")
    )
    beds = Bed.objects.all() if centre_id is None else Bed.objects.filter(room__centre_id=centre_id)
    beds = beds.filter(in_service_from__lt=stop).filter(
        Q(retired_on__isnull=True) | Q(retired_on__gt=first)
    )
    bed_days = sum(
        _overlap(since, retired or stop, first, stop)
        for since, retired in beds.values_list("in_service_from", "retired_on")
    )
    return _ratio(occupied, bed_days)


def mean_los_days(month: date | str, centre_id: int | None = None) -> Measure:
    """Nights of the stays discharged in the month ÷ those discharges."""
    first, last = _month_bounds(month)
    rows = (
        _stays(centre_id)
        .filter(discharged_on__range=(first, last))
        .values_list("admitted_on", "discharged_on")
    )
    nights = [(discharged - admitted).days for admitted, discharged in rows]
    return _ratio(sum(nights), len(nights))


def readmission_12m(month: date | str, centre_id: int | None = None) -> Measure:
    """Share of the month's discharges (of one centre's ward when `centre_id` is given)
    whose stay began within 365 days after the same person's previous discharge."""
    first, last = _month_bounds(month)
    discharged = list(
        _stays(centre_id)
        .filter(discharged_on__range=(first, last))
        .values_list("pk", "person_id", "admitted_on")
    )
    readmitted = 0
    for pk, person, admitted in discharged:
        if (
            Stay.objects.filter(
                person_id=person,
                discharged_on__isnull=False,
                discharged_on__lte=admitted,
                discharged_on__gte=admitted - timedelta(days=365),
            )
            .exclude(pk=pk)
            .exists()
        ):
            readmitted += 1
    return _ratio(readmitted, len(discharged))


def admissions(month: date | str) -> Measure:
    first, last = _month_bounds(month)
    count = Stay.objects.filter(admitted_on__range=(first, last)).count()
    return Measure(count, None, count)


def revenue(month: date | str) -> Measure:
    """Cash basis: payments received minus refunds paid out in the month, in RMB."""
    start, end = _aware_range(*_month_bounds(month))
    totals = dict(
        LedgerEntry.objects.filter(at__gte=start, at__lt=end, kind__in=["payment", "refund"])
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    net = (totals.get("payment") or ZERO) - (totals.get("refund") or ZERO)
    return Measure(net, None, net)
