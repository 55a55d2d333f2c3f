"""Money and care of the demo's detox unit: the ledger of past stays, the orders, doses, withdrawal scores,
adjunct medication and care events of past stays (written in bulk), and the ledger check
the demo's test runs over every stay."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.inpatient import rules
from pingan.inpatient.models import (
    AdjunctMedication,
    CareEvent,
    CareKind,
    CowsScore,
    EntryKind,
    InpatientDose,
    LedgerEntry,
    ReceiptSequence,
    Stay,
    TaperOrder,
)

ADJUNCTS = (("奥氮平", "5 mg"), ("地西泮", "10 mg"), ("曲唑酮", "50 mg"), ("可乐定", "0.1 mg"))


def _at(day: date, minute: int) -> datetime:
    moment = datetime.combine(day, time(minute // 60, minute % 60))
    return timezone.make_aware(moment, timezone.get_default_timezone())


def ledger_rows(plan, manager, rng: random.Random, summary) -> list[LedgerEntry]:
    """Charge and prepay the planned days, charge and pay an extension, credit and refund
    unused days: every stay that ended is settled to a zero balance."""
    stay, price = plan.stay, plan.stay.price_per_day
    paid_at = plan.admitted_at + timedelta(minutes=5 + rng.randrange(20))

    def entry(kind, amount, at, days=None, note=""):
        return LedgerEntry(
            stay=stay, kind=kind, amount=amount, days=days, at=at, note=note, created_by=manager
        )

    rows = [
        entry(
            EntryKind.CHARGE,
            price * plan.planned,
            plan.admitted_at,
            plan.planned,
            _("Planned days at admission"),
        ),
        entry(EntryKind.PAYMENT, price * plan.planned, paid_at),
    ]
    if plan.extension:
        extended = plan.admitted_at + timedelta(days=plan.planned - 1, hours=1)
        rows.append(
            entry(
                EntryKind.CHARGE, price * plan.extension, extended, plan.extension, _("Extension")
            )
        )
        rows.append(
            entry(EntryKind.PAYMENT, price * plan.extension, extended + timedelta(minutes=10))
        )
    unused = plan.planned - max(1, plan.nights)
    if unused > 0:
        rows.append(
            entry(
                EntryKind.CREDIT,
                price * unused,
                stay.discharged_at,
                unused,
                _("Unused days at discharge"),
            )
        )
        rows.append(
            entry(EntryKind.REFUND, price * unused, stay.discharged_at + timedelta(minutes=15))
        )
        summary.early_discharges += 1
        summary.refunds += 1
    return rows


def number_receipts(entries: list[LedgerEntry]) -> None:
    """Receipt numbers YYYY-NNNNNN in time order per year, as the cashier's desk gives
    them; the year's sequence is left at the last number so the next receipt follows."""
    cash = sorted(
        (e for e in entries if e.kind in (EntryKind.PAYMENT, EntryKind.REFUND)), key=lambda e: e.at
    )
    last: Counter = Counter()
    for item in cash:
        year = timezone.localtime(item.at).year
        last[year] += 1
        item.receipt_number = f"{year}-{last[year]:06d}"
    for year, number in last.items():
        ReceiptSequence.objects.update_or_create(year=year, defaults={"last": number})


def taper_for(plan, rng: random.Random) -> tuple[int, int] | None:
    """(start mg, daily reduction) for opioid detox; methamphetamine has no methadone."""
    if plan.history.drug == "methamphetamine":
        return None
    start = rng.choice((30, 40, 40, 50, 60)) if plan.history.drug == "heroin" else 30
    return start, max(5, (start // max(plan.planned, 1) + 4) // 5 * 5)


def care_history(history: list, clinician, nurse, rng: random.Random) -> None:
    """Orders, doses, COWS, adjuncts and care events of past stays. Psychiatric reviews and
    behavioural sessions fall a little short of what the tariff advertises (2 and 3 a
    week), as the field study found: the stay page shows the gap."""
    orders, doses, cows, adjuncts, events = [], [], [], [], []
    for plan in history:
        stay, first = plan.stay, plan.admitted_on
        events.append(
            CareEvent(
                stay=stay,
                clinician=clinician,
                kind=CareKind.ASSESSMENT,
                at=plan.admitted_at + timedelta(minutes=30),
                created_by=clinician,
            )
        )
        for n in range(plan.nights):
            day = first + timedelta(days=n)
            if rng.random() < 0.22:
                events.append(_event(stay, clinician, CareKind.PSYCHIATRIC_REVIEW, day, rng))
            if rng.random() < 0.33:
                events.append(_event(stay, clinician, CareKind.BEHAVIOURAL_SESSION, day, rng))
            if rng.random() < 0.5:
                events.append(_event(stay, nurse, CareKind.NURSING, day, rng))
        order = taper_for(plan, rng)
        if order is None:
            medication, dose = rng.choice(ADJUNCTS[:2])
            adjuncts.append(
                AdjunctMedication(
                    stay=stay,
                    at=plan.admitted_at + timedelta(hours=2),
                    medication=medication,
                    dose=dose,
                    given_by=nurse,
                    created_by=nurse,
                )
            )
            continue
        start_mg, step = order
        orders.append(
            TaperOrder(
                stay=stay,
                start_on=first,
                start_mg=start_mg,
                reduce_mg=step,
                every_days=1,
                clinician=clinician,
                created_by=clinician,
            )
        )
        for n in range(plan.nights):
            day = first + timedelta(days=n)
            planned = rules.taper_dose(first, start_mg, step, 1, day)
            if planned == 0:
                break
            doses.append(
                InpatientDose(
                    stay=stay,
                    date=day,
                    planned_mg=planned,
                    given_mg=planned,
                    nurse=nurse,
                    created_by=nurse,
                )
            )
        for n in range(min(3, plan.nights)):
            cows.append(_cows(stay, nurse, first + timedelta(days=n), 14 - 5 * n, rng))
    TaperOrder.objects.bulk_create(orders, batch_size=1000)
    InpatientDose.objects.bulk_create(doses, batch_size=1000)
    CowsScore.objects.bulk_create(cows, batch_size=1000)
    AdjunctMedication.objects.bulk_create(adjuncts, batch_size=1000)
    CareEvent.objects.bulk_create(events, batch_size=1000)


def _event(stay: Stay, user, kind: str, day: date, rng: random.Random) -> CareEvent:
    return CareEvent(
        stay=stay,
        clinician=user,
        kind=kind,
        at=_at(day, 10 * 60 + rng.randrange(420)),
        created_by=user,
    )


def cows_items(target: int, rng: random.Random) -> dict[str, int]:
    """COWS items (each within its range) adding up to about `target`."""
    items = {name: 0 for name, _max in rules.COWS_ITEMS}
    names = [name for name, _max in rules.COWS_ITEMS]
    ceiling = dict(rules.COWS_ITEMS)
    for _step in range(max(0, target + rng.randint(-3, 3))):
        name = rng.choice(names)
        if items[name] < ceiling[name]:
            items[name] += 1
    return items


def _cows(stay: Stay, nurse, day: date, target: int, rng: random.Random) -> CowsScore:
    items = cows_items(target, rng)
    return CowsScore(
        stay=stay,
        at=_at(day, 8 * 60 + rng.randrange(120)),
        items=items,
        total=sum(items.values()),
        nurse=nurse,
        created_by=nurse,
    )


def ledger_problems() -> list[str]:
    """Every way a stay's money could be wrong, in words; empty when all is well. Used by
    the demo's test and handy in a shell after changing the demo."""
    problems = []
    sums: dict[int, Counter] = defaultdict(Counter)
    for stay_id, kind, amount in LedgerEntry.objects.values_list("stay_id", "kind", "amount"):
        sums[stay_id][kind] += amount
    for stay in Stay.objects.only("pk", "discharged_at", "planned_days", "price_per_day"):
        s = sums[stay.pk]
        owed = s[EntryKind.CHARGE] - s[EntryKind.CREDIT]
        paid = s[EntryKind.PAYMENT] - s[EntryKind.REFUND]
        if s[EntryKind.REFUND] > s[EntryKind.CREDIT]:
            problems.append(f"stay {stay.pk}: refunds above credits")
        if paid > owed:
            problems.append(f"stay {stay.pk}: paid {paid} above owed {owed}")
        if stay.discharged_at is not None and paid != owed:
            problems.append(f"stay {stay.pk}: discharged with balance {paid - owed}")
        if (
            stay.discharged_at is None
            and s[EntryKind.CHARGE] != stay.price_per_day * stay.planned_days
        ):
            problems.append(f"stay {stay.pk}: charges differ from planned days × price")
    cash = LedgerEntry.objects.filter(kind__in=(EntryKind.PAYMENT, EntryKind.REFUND))
    if cash.filter(receipt_number__isnull=True).exists():
        problems.append("a payment or refund without a receipt number")
    for year, last in ReceiptSequence.objects.values_list("year", "last"):
        top = cash.filter(receipt_number__startswith=f"{year}-").aggregate(m=Max("receipt_number"))
        if top["m"] and int(top["m"].split("-")[1]) > last:
            problems.append(f"receipt sequence {year} behind the receipts issued")
    return problems
