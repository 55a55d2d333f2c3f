"""The demo's detox unit: 40 beds, a published tariff and a year of stays (docs/inpatient.md; the field study of a private detox hospital: 20–40 admissions a month, about a week each, 80% heroin, 10%
methamphetamine, 10% other opioids, 40–50% coming back within a year).

The year is simulated day by day so beds are never double-booked. Stays that ended are
written in bulk (thousands of rows); the stays open today go through the unit's own
actions — admission, prepayment, taper order, doses, COWS, care — so what a user touches
first was made the way the screens make it. Both paths keep the ledger's rules: cash taken
equals the days charged, unused days are credited and refunded, receipts are numbered per
year in time order.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.audit.signals import capture_paused
from pingan.core import clock
from pingan.inpatient import actions, billing, care, queries, rules
from pingan.inpatient.models import (
    Bed,
    BedState,
    CareKind,
    InpatientPerson,
    LedgerEntry,
    RoomType,
    Stay,
    TariffVersion,
)

from .demo_inpatient_care import (
    ADJUNCTS,
    care_history,
    cows_items,
    ledger_rows,
    number_receipts,
    taper_for,
)
from .identity import alias as make_alias

PRIVATE_ROOMS = 8  # one bed each
SHARED_ROOMS = 8  # four beds each: 40 beds in all
DRUG_MIX = (("heroin", 0.8), ("methamphetamine", 0.1), ("other_opioid", 0.1))
READMISSION_SHARE = 0.4
PLANNED_DAYS = (7, 7, 7, 7, 7, 7, 5, 10, 14, 14)


def _at(day: date, minute: int) -> datetime:
    moment = datetime.combine(day, time(minute // 60, minute % 60))
    return timezone.make_aware(moment, timezone.get_default_timezone())


@dataclass
class InpatientSummary:
    beds: int = 0
    stays: int = 0
    open_stays: int = 0
    readmissions: int = 0
    early_discharges: int = 0
    refunds: int = 0
    receipts: int = 0


@dataclass
class Plan:
    """One simulated stay before it is written."""

    person: int  # index into the people list
    bed: Bed
    admitted_at: datetime
    planned: int
    nights: int  # nights actually stayed (or planned, for a stay still open)
    extension: int
    history: rules.UseHistory
    previous: Plan | None = None
    stay: Stay | None = None

    admitted_on: date | None = None
    leaves_on: date | None = None

    def __post_init__(self) -> None:
        self.admitted_on = timezone.localdate(self.admitted_at)
        self.leaves_on = self.admitted_on + timedelta(days=self.nights)


def build_unit(users: dict, today: date, days: int, rng: random.Random) -> InpatientSummary:
    """Rooms, tariff, a year of stays and today's patients; returns the counts."""
    manager, clinician, nurse = users["manager"], users["clinician"], users["nurse"]
    start = today - timedelta(days=days)
    beds = _rooms(manager, start)
    tariffs = _tariffs(manager, start, today)
    plans, people = _simulate(beds, start, today, rng)
    summary = InpatientSummary(beds=len(beds))
    history = [p for p in plans if p.leaves_on < today]
    current = [p for p in plans if p.leaves_on >= today]
    persons = _people(people, rng)
    with transaction.atomic(), capture_paused():
        _write_history(history, persons, tariffs, users, today, rng, summary)
        record("demo_inpatient_history", stays=len(history), receipts=summary.receipts)
    with transaction.atomic():  # each action a savepoint; one commit for all of them
        for plan in current:
            _admit_now(plan, persons[plan.person], manager, clinician, nurse, today, rng)
        _beds_after(history, today, manager)
    summary.stays = len(plans)
    summary.open_stays = len(current)
    summary.readmissions = sum(1 for p in plans if p.previous is not None)
    return summary


def _rooms(manager, start: date) -> list[Bed]:
    for n in range(1, PRIVATE_ROOMS + 1):
        actions.add_room(f"{100 + n}", RoomType.PRIVATE, ["1"], manager)
    for n in range(1, SHARED_ROOMS + 1):
        actions.add_room(f"{200 + n}", RoomType.SHARED, ["1", "2", "3", "4"], manager)
    # The unit opened before the demo's year: its beds count for occupancy from day one.
    Bed.objects.update(in_service_from=start - timedelta(days=30))
    return list(Bed.objects.select_related("room").order_by("room__name", "label"))


def _tariffs(manager, start: date, today: date) -> list[TariffVersion]:
    """The documented default from the start of the year, and a 5% dearer version three
    months ago: stays keep the price they were quoted."""
    first = actions.create_tariff(_("Standard tariff"), start - timedelta(days=30), manager)
    actions.publish_tariff(first, manager)
    second = actions.create_tariff(
        _("Standard tariff, revised"), today - timedelta(days=90), manager, copy_from=first
    )
    for (room, drug), price in rules.DEFAULT_RATES.items():
        actions.set_rate(
            second, room, drug, (price * Decimal("1.05")).quantize(Decimal(1)), manager
        )
    actions.publish_tariff(second, manager)
    return [first, second]


def _use_history(rng: random.Random, drug: str, previous: int) -> rules.UseHistory:
    route = {
        "heroin": rng.choice(("injected", "injected", "smoked")),
        "methamphetamine": "smoked",
        "other_opioid": "oral",
    }[drug]
    return rules.UseHistory(
        drug=drug,
        years_of_use=rng.choice((1, 3, 5, 8, 12, 15, 20)),
        route=route,
        amount_band=rng.choice(("low", "medium", "medium", "high")),
        previous_treatments=previous,
    )


def _simulate(beds: list[Bed], start: date, today: date, rng: random.Random):
    """Admissions day by day (more in later months), each to a bed free that day."""
    free_from = {bed.pk: start for bed in beds}
    plans: list[Plan] = []
    people: list[tuple[str, int]] = []  # (sex, birth year)
    last_stay: dict[int, Plan] = {}
    days = (today - start).days
    for offset in range(days):
        day = start + timedelta(days=offset)
        per_day = (20 + 14 * offset / days) / 30  # about 20 a month a year ago, 34 now
        for _n in range(_poisson(rng, per_day)):
            returning = [
                p
                for p in last_stay.values()
                if p.leaves_on < day and (day - p.leaves_on).days <= 365
            ]
            previous = None
            if returning and rng.random() < READMISSION_SHARE:
                previous = rng.choice(returning)
                person = previous.person
                drug = previous.history.drug
                prior = min(previous.history.previous_treatments + 1, 6)
            else:
                person = len(people)
                sex = "F" if rng.random() < 0.12 else "M"
                people.append((sex, rng.randint(1965, 2002)))
                drug = _weighted(rng, DRUG_MIX)
                prior = rng.choice((0, 0, 1, 2, 3))
            private = rng.random() < 0.25
            bed = _free_bed(beds, free_from, day, private)
            if bed is None:
                continue  # the unit is full: the person is turned away that day
            planned = rng.choice(PLANNED_DAYS)
            nights, extension = planned, 0
            luck = rng.random()
            if luck < 0.15:
                nights = rng.randint(1, max(1, planned - 2))  # leaves early: refund
            elif luck < 0.25:
                extension = rng.randint(3, 7)
                nights = planned + extension
            plan = Plan(
                person=person,
                bed=bed,
                admitted_at=_at(day, 9 * 60 + rng.randrange(7 * 60)),
                planned=planned,
                nights=nights,
                extension=extension,
                history=_use_history(rng, drug, prior),
                previous=previous,
            )
            free_from[bed.pk] = plan.leaves_on + timedelta(days=1)
            last_stay[person] = plan
            plans.append(plan)
    return plans, people


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _weighted(rng: random.Random, choices) -> str:
    roll, total = rng.random(), 0.0
    for value, share in choices:
        total += share
        if roll < total:
            return value
    return choices[-1][0]


def _free_bed(beds, free_from, day: date, private: bool) -> Bed | None:
    wanted = RoomType.PRIVATE if private else RoomType.SHARED
    free = [b for b in beds if free_from[b.pk] <= day]
    preferred = [b for b in free if b.room.room_type == wanted]
    pool = preferred or free
    return pool[0] if pool else None


def _people(people: list[tuple[str, int]], rng: random.Random) -> list[InpatientPerson]:
    """Alias, sex, birth year and a return card code; nothing else (they are anonymous)."""
    codes: set[str] = set()
    rows = []
    for sex, born in people:
        code = "".join(rng.choice(rules.CARD_ALPHABET) for _ in range(rules.CARD_LENGTH))
        while code in codes:
            code = "".join(rng.choice(rules.CARD_ALPHABET) for _ in range(rules.CARD_LENGTH))
        codes.add(code)
        rows.append(
            InpatientPerson(
                alias=make_alias(rng, sex, born), sex=sex, birth_year=born, return_card_code=code
            )
        )
    return InpatientPerson.objects.bulk_create(rows, batch_size=500)


class _Tables:
    """Quote tables per tariff version, read once."""

    def __init__(self, tariffs: list[TariffVersion]):
        self.versions = sorted(tariffs, key=lambda t: t.effective_from)
        self.tables = {t.pk: actions.table_of(t) for t in self.versions}

    def in_force(self, on: date) -> TariffVersion:
        return [t for t in self.versions if t.effective_from <= on][-1]


def _write_history(history, persons, tariffs, users, today, rng, summary) -> None:
    manager, clinician, nurse = users["manager"], users["clinician"], users["nurse"]
    tables = _Tables(tariffs)
    stays = []
    for plan in history:
        tariff = tables.in_force(plan.admitted_on)
        quote = rules.quote(
            tables.tables[tariff.pk], plan.bed.room.room_type, plan.history, plan.planned
        )
        plan.stay = Stay(
            person=persons[plan.person],
            bed=plan.bed,
            admitted_at=plan.admitted_at,
            admitted_on=plan.admitted_on,
            planned_days=plan.planned + plan.extension,
            discharged_at=_at(plan.leaves_on, 9 * 60 + rng.randrange(150)),
            discharged_on=plan.leaves_on,
            reason=_("Detoxification"),
            discharge_note=(
                _("Left before the planned end; unused days refunded")
                if plan.nights < plan.planned
                else ""
            ),
            **asdict(plan.history),
            severity_score=quote.severity.score,
            tariff=tariff,
            price_per_day=quote.day_price,
            created_by=manager,
        )
        stays.append(plan.stay)
    Stay.objects.bulk_create(stays, batch_size=500)
    for plan in history:
        if plan.previous is not None and plan.previous.stay is not None:
            plan.stay.readmission_of = plan.previous.stay
    Stay.objects.bulk_update(
        [p.stay for p in history if p.previous is not None], ["readmission_of"], batch_size=500
    )
    entries = []
    for plan in history:
        entries.extend(ledger_rows(plan, manager, rng, summary))
    number_receipts(entries)
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    summary.receipts = sum(1 for e in entries if e.receipt_number)
    care_history(history, clinician, nurse, rng)


def _admit_now(plan: Plan, person: InpatientPerson, manager, clinician, nurse, today, rng) -> None:
    """A patient in a bed today, through the unit's actions: admission (the person's card
    links a return), prepayment, the taper order, each day's dose, COWS and care."""
    data = actions.Admission(
        alias=person.alias,
        sex=person.sex,
        birth_year=person.birth_year,
        history=plan.history,
        planned_days=plan.planned,
        reason=_("Detoxification"),
        return_card_code=person.return_card_code,
    )
    stay = actions.admit(data, plan.bed, manager, at=plan.admitted_at)
    plan.stay = stay
    due = queries.ledger(stay).due
    # A few pay a deposit first and the rest later; the bed board shows what is owed.
    deposit = rng.random() < 0.15
    amount = (due / 2).quantize(Decimal("0.01")) if deposit else due
    payment = billing.take_payment(stay, amount, manager, note=_("Prepayment"))
    # The cash was taken at the desk at admission; the entry carries that moment.
    LedgerEntry.objects.filter(pk=payment.pk).update(
        at=plan.admitted_at + timedelta(minutes=5 + rng.randrange(20))
    )
    first = plan.admitted_on
    care.record_care(
        stay, CareKind.ASSESSMENT, clinician, at=plan.admitted_at + timedelta(minutes=30)
    )
    order = taper_for(plan, rng)
    if order is None:
        medication, dose = rng.choice(ADJUNCTS[:2])
        care.record_adjunct(stay, medication, dose, nurse)
        return
    start_mg, step = order
    care.order_taper(stay, first, start_mg, step, 1, clinician)
    now = clock.now()
    for n in range((today - first).days + 1):
        day = first + timedelta(days=n)
        if day == today and timezone.localtime(now).hour < 9:
            break
        planned = care.planned_mg(stay, day)
        if planned:
            care.record_dose(stay, planned, nurse, on=day)
    for n in range(min(2, (today - first).days + 1)):
        moment = _at(first + timedelta(days=n), 8 * 60 + rng.randrange(90))
        if moment < now:
            care.record_cows(stay, cows_items(14 - 5 * n, rng), nurse, at=moment)
    if (today - first).days >= 2:
        day = first + timedelta(days=rng.randint(1, (today - first).days - 1))
        care.record_care(
            stay, CareKind.PSYCHIATRIC_REVIEW, clinician, at=_at(day, 14 * 60 + rng.randrange(120))
        )


def _beds_after(history: list[Plan], today: date, manager) -> None:
    """Beds left yesterday or today wait for cleaning; two free beds are reserved."""
    occupied = set(Stay.objects.filter(discharged_at__isnull=True).values_list("bed_id", flat=True))
    recent = {p.bed.pk for p in history if p.leaves_on >= today - timedelta(days=1)} - occupied
    Bed.objects.filter(pk__in=recent).update(state=BedState.CLEANING)
    free = Bed.objects.filter(state=BedState.FREE).exclude(pk__in=occupied).order_by("room__name")
    for bed in list(free.filter(room__room_type=RoomType.PRIVATE)[:1]) + list(
        free.filter(room__room_type=RoomType.SHARED)[:1]
    ):
        actions.set_bed_state(bed, BedState.RESERVED, manager)
