"""What the demo adds after the import, because the import format does not carry it:
re-enrolments, prescriptions, the stock ledger, consents, holds and today's activity.

Everything is derived from the imported history so the screens agree with each other: the
prescription in force is the client's latest dose, a hold sits on a client who really has a
gap, the ledger's dose lines are the doses of those days.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.dosing.models import (
    Dose,
    HoldKind,
    Prescription,
    Product,
    Reconciliation,
    StockEntry,
    StockEntryKind,
)
from pingan.dosing.stock import sync_balance
from pingan.labs.models import ScheduledUrineTest
from pingan.registry.models import Client, Consent, Episode, Purpose

LEDGER_DAYS = 14


def _at(day: date, minute_of_day: int) -> datetime:
    """A timezone-aware moment on `day` in the centre's time zone."""
    moment = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60))
    return timezone.make_aware(moment, timezone.get_default_timezone())


@dataclass
class ClientState:
    """One client as the demo needs them after the import."""

    client_id: int
    code: str
    episode: Episode
    doses: list[tuple[date, int, str]]  # (date, mg, kind) in date order

    @property
    def in_treatment(self) -> bool:
        return self.episode.discharged_on is None

    def missed_before(self, today: date) -> int:
        last = self.doses[-1][0] if self.doses else self.episode.enrolled_on - timedelta(days=1)
        return max(0, (today - last).days - 1)

    def on_takehome(self, today: date) -> bool:
        return any(k == "takehome" and d >= today - timedelta(days=30) for d, _, k in self.doses)


def apply_reenrolments(path: Path, centre_id: int | None = None) -> int:
    """Split each re-enrolled client's imported episode at the break (see writers.py);
    with `centre_id`, among that centre's clients (client codes are unique per centre)."""
    file = path / "reenrolments.csv"
    if not file.exists():
        return 0
    breaks: dict[str, list[tuple[date, str, date]]] = defaultdict(list)
    with file.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            breaks[row["client_code"]].append(
                (
                    date.fromisoformat(row["discharged_on"]),
                    row["reason"],
                    date.fromisoformat(row["reenrolled_on"]),
                )
            )
    count = 0
    episodes = Episode.objects.filter(client__code__in=list(breaks))
    if centre_id is not None:
        episodes = episodes.filter(client__centre_id=centre_id)
    for episode in episodes.select_related("client"):
        final_day, final_reason, final_note = (
            episode.discharged_on,
            episode.discharge_reason,
            episode.discharge_note,
        )
        current = episode
        for left, reason, back in sorted(breaks[episode.client.code]):
            current.discharged_on, current.discharge_reason = left, reason
            current.save(update_fields=["discharged_on", "discharge_reason"])
            current = Episode.objects.create(
                client_id=episode.client_id,
                centre_id=episode.centre_id,
                enrolled_on=back,
                discharged_on=None,
            )
            count += 1
        if final_day is not None:
            current.discharged_on, current.discharge_reason = final_day, final_reason
            current.discharge_note = final_note
            current.save(update_fields=["discharged_on", "discharge_reason", "discharge_note"])
    return count


def client_states(centre_id: int | None = None) -> list[ClientState]:
    """Every client (of one centre, with `centre_id`) with their latest episode and their
    doses wherever they were given, in code order."""
    clients = Client.objects.all()
    if centre_id is not None:
        clients = clients.filter(centre_id=centre_id)
    latest: dict[int, Episode] = {}
    for episode in Episode.objects.filter(client__in=clients).order_by("client_id", "enrolled_on"):
        latest[episode.client_id] = episode
    doses: dict[int, list[tuple[date, int, str]]] = defaultdict(list)
    rows = Dose.objects.filter(client__in=clients).order_by("client_id", "date")
    for client_id, day, mg, kind in rows.values_list("client_id", "date", "mg", "kind"):
        doses[client_id].append((day, mg, kind))
    return [
        ClientState(pk, code, latest[pk], doses.get(pk, []))
        for pk, code in clients.order_by("code").values_list("pk", "code")
        if pk in latest
    ]


def write_prescriptions(states: list[ClientState], clinician) -> int:
    """A prescription for every change of dose in the record; the latest is in force for
    clients in treatment, earlier ones (and those of discharged clients) are superseded."""
    rows = []
    for state in states:
        segments: list[tuple[date, int]] = []
        for day, mg, _kind in state.doses:
            if not segments or segments[-1][1] != mg:
                segments.append((day, mg))
        if not segments and state.in_treatment:
            # Enrolled but not yet dosed: the induction dose is waiting at the counter.
            segments.append((state.episode.enrolled_on, 30))
        for i, (start, mg) in enumerate(segments):
            last = i == len(segments) - 1
            if last and state.in_treatment:
                superseded = None
            elif last:
                superseded = _at(state.episode.discharged_on, 8 * 60)
            else:
                superseded = _at(segments[i + 1][0], 8 * 60)
            previous = segments[i - 1][1] if i else None
            induction = previous is None and start - state.episode.enrolled_on <= timedelta(days=3)
            if previous is None:
                reason = _("Induction") if induction else _("Maintenance dose")
            elif mg > previous:
                reason = _("Increased: withdrawal symptoms")
            else:
                reason = _("Reduced at clinical review")
            rows.append(
                Prescription(
                    client_id=state.client_id,
                    mg=mg,
                    start_on=start,
                    clinician=clinician,
                    reason=reason,
                    induction=induction,
                    superseded_at=superseded,
                    created_by=clinician,
                )
            )
    Prescription.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def write_consents(states: list[ClientState], today: date, clinician, rng: random.Random) -> int:
    """SMS for most clients in treatment; police record check and box location for those on
    take-home (the Ping An standard needs both); research and referral feedback for some."""
    rows = []
    for state in states:
        if not state.in_treatment:
            continue
        enrolled = state.episode.enrolled_on

        def consent(purpose: str, given_on: date, _state=state) -> None:
            rows.append(
                Consent(
                    client_id=_state.client_id,
                    purpose=purpose,
                    given_on=given_on,
                    created_by=clinician,
                )
            )

        if rng.random() < 0.85:
            consent(Purpose.SMS, enrolled)
        if state.on_takehome(today):
            first = next(d for d, _, k in state.doses if k == "takehome")
            given = max(enrolled, first - timedelta(days=rng.randint(7, 30)))
            consent(Purpose.POLICE_RECORD_CHECK, given)
            consent(Purpose.BOX_LOCATION, given)
        if rng.random() < 0.25:
            consent(Purpose.RESEARCH, enrolled)
        if rng.random() < 0.1:
            consent(Purpose.POLICE_REFERRAL_FEEDBACK, enrolled)
    Consent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def place_holds(states: list[ClientState], today: date, clinician, centre=None) -> list[int]:
    """A missed-dose hold on every client in treatment whose gap reaches the centre's
    thresholds right now, as the dosing rules would open it at the counter."""
    from pingan.core.models import Centre
    from pingan.dosing.actions import place_hold

    centre = centre or Centre.current()
    held = []
    for state in states:
        missed = state.missed_before(today)
        if not state.in_treatment or missed < centre.review_after_missed_days:
            continue
        kind = (
            HoldKind.REINDUCTION
            if missed >= centre.reinduction_after_missed_days
            else HoldKind.MISSED_DOSE_REVIEW
        )
        client = Client.objects.get(pk=state.client_id)
        place_hold(client, kind, _("%(n)d days missed in a row") % {"n": missed}, clinician)
        held.append(state.client_id)
    return held


def takehome_today(
    states: list[ClientState], today: date, held: set[int], product: Product, nurse, rng
) -> list[Dose]:
    """Half of the take-home clients who came yesterday took today's bottle home then."""
    doses = []
    yesterday = today - timedelta(days=1)
    for state in states:
        if not state.in_treatment or state.client_id in held or not state.on_takehome(today):
            continue
        if not state.doses or state.doses[-1][0] != yesterday or rng.random() >= 0.5:
            continue
        visit = next(d for d, _, k in reversed(state.doses) if k == "clinic")
        mg = state.doses[-1][1]
        doses.append(
            Dose(
                client_id=state.client_id,
                date=today,
                kind="takehome",
                mg=mg,
                mg_in_clinic=0,
                mg_taken_home=mg,
                drug=product.drug,
                form=product.form,
                strength_mg_per_ml=product.strength_mg_per_ml,
                volume_ml=(Decimal(mg) / product.strength_mg_per_ml).quantize(Decimal("0.01")),
                given_at=_at(visit, 9 * 60 + rng.randrange(150)),
                dispenser=nurse,
                note=_("Take-home bottle"),
                created_by=nurse,
            )
        )
    Dose.objects.bulk_create(doses)
    return doses


def write_ledger(product: Product, today: date, manager, nurse, rng: random.Random) -> int:
    """Receipts, every dose and take-home bottle of the last two weeks, one waste line and a
    daily count: the ledger a manager would have, with a balance that never goes negative.
    The product's centre gave the doses: its own clients' (a dose loaded without a centre
    is its client's centre's) and its guests'."""
    first = today - timedelta(days=LEDGER_DAYS)
    moves: list[tuple[datetime, str, Decimal, int | None, str]] = []
    per_client: dict[int, list[tuple[date, str]]] = defaultdict(list)
    given_here = Q(centre_id=product.centre_id) | Q(
        centre__isnull=True, client__centre_id=product.centre_id
    )
    rows = Dose.objects.filter(given_here, date__gte=first - timedelta(days=7)).order_by(
        "client_id", "date"
    )
    for pk, client_id, day, kind, volume in rows.values_list(
        "pk", "client_id", "date", "kind", "volume_ml"
    ):
        if kind == "clinic":
            visit = day
        else:
            visits = [d for d, k in per_client[client_id] if k == "clinic"]
            visit = visits[-1] if visits else day
        per_client[client_id].append((day, kind))
        if first <= visit < today:
            when = _at(visit, 7 * 60 + 30 + rng.randrange(240))
            moves.append((when, kind if kind == "takehome" else "dose", -volume, pk, ""))
    moves.sort(key=lambda m: m[0])
    outflow = -sum(m[2] for m in moves)
    opening = Decimal(int(outflow * Decimal("0.6") / 5000 + 2) * 5000)
    second = Decimal(int(outflow * Decimal("0.6") / 5000 + 1) * 5000)
    moves.append((_at(first, 7 * 60), "receipt", opening, None, ""))
    moves.append((_at(first + timedelta(days=7), 7 * 60 + 5), "receipt", second, None, ""))
    moves.append(
        (_at(first + timedelta(days=3), 11 * 60), "waste", Decimal("-60"), None, _("Bottle broken"))
    )
    moves.sort(key=lambda m: m[0])
    balance, entries, end_of_day = Decimal("0"), [], {}
    for when, kind, ml, dose_id, reason in moves:
        balance += ml
        entries.append(
            StockEntry(
                product=product,
                at=when,
                kind=kind,
                ml=ml,
                balance_ml=balance,
                dose_id=dose_id,
                batch=f"YX{when:%Y%m%d}" if kind == StockEntryKind.RECEIPT else "",
                reason=reason,
                created_by=manager if kind in ("receipt", "waste") else nurse,
            )
        )
        end_of_day[timezone.localtime(when).date()] = balance
    StockEntry.objects.bulk_create(entries, batch_size=1000)
    sync_balance()
    counts, expected = [], Decimal("0")
    for offset in range(LEDGER_DAYS):
        day = first + timedelta(days=offset)
        expected = end_of_day.get(day, expected)
        counts.append(
            Reconciliation(
                product=product,
                on=day,
                expected_ml=expected,
                counted_ml=expected,
                created_by=manager,
            )
        )
    Reconciliation.objects.bulk_create(counts)
    return len(entries)


def dose_some_today(
    states: list[ClientState], today: date, held: set[int], nurse, share: float, rng
) -> tuple[int, int]:
    """Record part of today's queue through the real dosing action (rules, ledger, audit):
    the queue then shows both dosed and waiting clients. Returns (dosed, still waiting).
    A client away as a guest elsewhere today is not expected here."""
    from pingan.dosing.actions import record_dose
    from pingan.dosing.models import GuestSlip

    covered = set(Dose.objects.filter(date=today).values_list("client_id", flat=True))
    covered |= set(
        GuestSlip.objects.filter(
            cancelled_at__isnull=True, valid_from__lte=today, valid_to__gte=today
        ).values_list("client_id", flat=True)
    )
    expected = [
        s
        for s in states
        if s.in_treatment and s.client_id not in held and s.client_id not in covered
    ]
    dosed = 0
    for state in expected:
        if rng.random() < share:
            result = record_dose(Client.objects.get(pk=state.client_id), nurse, day=today)
            dosed += bool(result.ok)
    return dosed, len(expected) - dosed


def schedule_urine_today(
    states: list[ClientState], today: date, held: set[int], rng, count: int
) -> int:
    candidates = [s for s in states if s.in_treatment and s.client_id not in held]
    chosen = rng.sample(candidates, min(count, len(candidates)))
    ScheduledUrineTest.objects.bulk_create(
        [ScheduledUrineTest(client_id=s.client_id, on=today) for s in chosen]
    )
    return len(chosen)
