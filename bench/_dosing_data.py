"""The dose-recording benchmarks' dataset: a centre (or a region of centres, each with its own
clients, stock and nurse) with years of daily doses, built fast.

`pingan synth` + `load_directory` is exact but validates every CSV row in Python; for
3 million doses the rows are generated here from a seeded model (attendance 85-99%, a
share of newer enrolments and of discharges) and written straight to the tables: SQLite
with `executemany`, PostgreSQL with `COPY`. Clients, episodes and prescriptions (a few
thousand rows) go through the ORM. Each dose gets its stock ledger line, so the ledger is
as long as a real one; the load itself is one audit entry, as the import's is.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

DRUG, FORM = "methadone hydrochloride", "oral solution"
RECEIPT_ML = 50_000_000
DOSE_COLUMNS = (
    "id, external_id, created_at, created_by_id, client_id, date, kind, mg, drug, form,"
    " strength_mg_per_ml, volume_ml, mg_in_clinic, mg_taken_home, given_at, dispenser_id,"
    " prescription_id, note, capped, centre_id"
)
ENTRY_COLUMNS = (
    "id, external_id, created_at, created_by_id, product_id, at, kind, ml, balance_ml,"
    " dose_id, batch, reason"
)


@dataclass
class Person:
    code: str
    enrolled_on: date
    discharged_on: date | None
    mg: int
    attend: float


def people(clients: int, days: int, today: date, seed: int = 7) -> list[Person]:
    """Who the centre has: most enrolled before the window, some during it, ~8% gone."""
    rng = random.Random(seed)
    start = today - timedelta(days=days)
    out = []
    for i in range(clients):
        if rng.random() < 0.85:
            enrolled = start - timedelta(days=rng.randrange(1, 900))
        else:
            enrolled = start + timedelta(days=rng.randrange(0, max(1, days - 20)))
        gone = None
        if rng.random() < 0.08:
            gone = enrolled + timedelta(days=rng.randrange(30, 400))
            gone = gone if start < gone < today - timedelta(days=2) else None
        out.append(Person(f"PA{i:06d}", enrolled, gone, rng.randrange(30, 125, 5), 0.0))
        out[-1].attend = rng.uniform(0.85, 0.99)
    return out


def dose_days(p: Person, days: int, today: date, seed: int) -> list[date]:
    """The days this person came, before today. The last three days before today are
    always attended, so everyone in treatment may be dosed today (a missed-dose hold
    would make the timed path a refusal, which is measured apart)."""
    rng = random.Random(seed)
    first = max(p.enrolled_on, today - timedelta(days=days))
    last = min(p.discharged_on or today, today)
    out = []
    d = first
    while d < last:
        if (today - d).days <= 3 or rng.random() < p.attend:
            out.append(d)
        d += timedelta(days=1)
    return out


def _progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stdout.write(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)   ")
    sys.stdout.flush()
    if done >= total:
        sys.stdout.write("\n")


def _rows(population, ids, prescriptions, nurse_id, product_id, days, today, seed, centre_id,
          first_ids=(1, 1)):  # fmt: skip
    """Dose rows and their ledger lines, in date order (the ledger's running balance); their
    ids from `first_ids` (dose, line) on, so several centres' rows can share the tables."""
    by_day: dict[date, list[tuple[int, int]]] = {}
    for n, p in enumerate(population):
        for d in dose_days(p, days, today, seed * 1_000_003 + n):
            by_day.setdefault(d, []).append((n, p.mg))
    total_ml = sum(mg for rows in by_day.values() for _, mg in rows)
    rand = random.getrandbits
    first_day = min(by_day) if by_day else today
    at = f"{first_day - timedelta(days=1)} 00:30:00"
    # Enough stock for the whole history, in receipts a ledger line can hold (< 10^8 ml).
    entries, balance = [], 0
    for _ in range(-(-(total_ml + 200_000) // RECEIPT_ML)):
        balance += RECEIPT_ML
        entries.append(
            (0, f"{rand(128):032x}", at, None, product_id, at, "receipt", RECEIPT_ML, balance, None)
        )
    dose_id, doses = first_ids[0] - 1, []
    for d in sorted(by_day):
        stamp = f"{d} 01:{rand(5):02d}:00"
        for n, mg in by_day[d]:
            dose_id += 1
            balance -= mg
            doses.append(
                (dose_id, f"{rand(128):032x}", stamp, nurse_id, ids[n], d.isoformat(), "clinic",
                 mg, DRUG, FORM, "1.00", f"{mg}.00", mg, 0, stamp, nurse_id, prescriptions[n], "",
                 False, centre_id)
            )  # fmt: skip
            entries.append(
                (0, f"{rand(128):032x}", stamp, nurse_id, product_id, stamp, "dose",
                 -mg, balance, dose_id)
            )  # fmt: skip
    entries = [(n, *e[1:]) for n, e in enumerate(entries, start=first_ids[1])]
    return doses, entries


def _write_sqlite(doses, entries) -> None:
    raw = connection.connection
    raw.execute("PRAGMA cache_size=-800000")
    dose_sql = f"INSERT INTO dosing_dose ({DOSE_COLUMNS}) VALUES ({','.join('?' * 20)})"
    entry_sql = f"INSERT INTO dosing_stockentry ({ENTRY_COLUMNS}) VALUES ({','.join('?' * 12)})"
    step, started = 100_000, time.perf_counter()
    total = len(doses) + len(entries)
    for i in range(0, len(doses), step):
        raw.executemany(dose_sql, doses[i : i + step])
        _progress("doses + ledger", i + step // 2, total, started)
    for i in range(0, len(entries), step):
        rows = [(*e[:7], f"{e[7]}.00", f"{e[8]}.00", e[9], "", "") for e in entries[i : i + step]]
        raw.executemany(entry_sql, rows)
        _progress("doses + ledger", len(doses) + min(i + step, len(entries)), total, started)


def _write_postgres(doses, entries) -> None:
    started, total = time.perf_counter(), len(doses) + len(entries)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY dosing_dose ({DOSE_COLUMNS}) FROM STDIN") as copy:
            for i, row in enumerate(doses):
                copy.write_row((*row[:2], row[2] + "+00", *row[3:14], row[14] + "+00", *row[15:]))
                if i % 200_000 == 0:
                    _progress("doses + ledger", i, total, started)
        with cursor.copy(f"COPY dosing_stockentry ({ENTRY_COLUMNS}) FROM STDIN") as copy:
            for i, e in enumerate(entries):
                copy.write_row((e[0], e[1], e[2] + "+00", e[3], e[4], e[5] + "+00", e[6],
                                f"{e[7]}.00", f"{e[8]}.00", e[9], "", ""))  # fmt: skip
                if i % 200_000 == 0:
                    _progress("doses + ledger", len(doses) + i, total, started)
        _progress("doses + ledger", total, total, started)
        for table in ("dosing_dose", "dosing_stockentry"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")


def staff():
    """One nurse and one clinician (signed in with force_login: no password hashing)."""
    from django.contrib.auth.models import Group, User

    made = {}
    for role in ("nurse", "clinician"):
        user, created = User.objects.get_or_create(username=f"bench-{role}")
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=role))
        made[role] = user
    return made


def centre_nurse(centre, first: bool):
    """The nurse of one centre of the region, a member of it: the first centre's is the
    single-centre benchmark's `bench-nurse`."""
    from django.contrib.auth.models import Group, User

    from pingan.region.models import Membership

    name = "bench-nurse" if first else f"bench-nurse-{centre.code.lower()}"
    user, created = User.objects.get_or_create(username=name)
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name="nurse"))
    Membership.objects.get_or_create(user=user, centre=centre)
    return user


def region_centres(centres: int) -> list:
    """The installation's centre and `centres - 1` more (BENCH-02, ...)."""
    from pingan.core.models import Centre

    made = [Centre.current()]
    for k in range(2, centres + 1):
        centre, _created = Centre.objects.get_or_create(
            code=f"BENCH-{k:02d}", defaults={"name": f"Bench centre {k:02d}"}
        )
        made.append(centre)
    return made


def build(clients: int, days: int, today: date, seed: int = 7, centres: int = 1) -> dict:
    """Fill the (freshly migrated) default database; returns counts for the report.
    `centres` > 1: a region, `clients` per centre, each centre with its own clients
    (codes PA… in the first, C02-… and on in the others), its own product and ledger, and
    its own nurse with membership; the first centre's data is the single-centre one's."""
    from pingan.audit.log import record
    from pingan.audit.signals import capture_paused
    from pingan.dosing.models import Prescription
    from pingan.dosing.stock import ensure_default_product, product_of, sync_balance
    from pingan.registry.models import Client, Episode

    t0 = time.perf_counter()
    users = staff()
    clinician = users["clinician"]
    print(f"  generating {centres} x {clients:,} clients x {days} days ...", flush=True)
    sqlite = connection.vendor == "sqlite"
    if sqlite and not connection.in_atomic_block:  # a load, not a record: no fsync needed
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    doses, entries, in_treatment = [], [], 0
    with transaction.atomic(), capture_paused():
        places = region_centres(centres) if centres > 1 else [None]
        for k, centre in enumerate(places):
            population = people(clients, days, today, seed + k)
            if k:
                for p in population:
                    p.code = f"C{k + 1:02d}-{p.code[2:]}"
            in_treatment += sum(1 for p in population if p.discharged_on is None)
            if centre is None:
                nurse, product = users["nurse"], ensure_default_product()
            else:
                nurse, product = centre_nurse(centre, first=k == 0), product_of(centre)
            made = Client.objects.bulk_create(
                [Client(code=p.code, alias=f"A{p.code[-4:]}", sex="M", birth_year=1975,
                        **({"centre": centre} if centre else {}))
                 for p in population],
                batch_size=2000,
            )  # fmt: skip
            ids = [c.pk for c in made]
            Episode.objects.bulk_create(
                [Episode(client_id=i, enrolled_on=p.enrolled_on, discharged_on=p.discharged_on,
                         discharge_reason="dropped_out" if p.discharged_on else "")
                 for i, p in zip(ids, population, strict=True)],
                batch_size=2000,
            )  # fmt: skip
            gone_at = timezone.now()
            rx = Prescription.objects.bulk_create(
                [Prescription(client_id=i, mg=p.mg, start_on=p.enrolled_on, clinician=clinician,
                              reason="maintenance",
                              superseded_at=gone_at if p.discharged_on else None)
                 for i, p in zip(ids, population, strict=True)],
                batch_size=2000,
            )  # fmt: skip
            more_doses, more_entries = _rows(
                population, ids, [r.pk for r in rx], nurse.pk, product.pk, days, today,
                seed + k, made[0].centre_id, (len(doses) + 1, len(entries) + 1),
            )  # fmt: skip
            doses += more_doses
            entries += more_entries
        print(f"  {len(doses):,} doses generated in {time.perf_counter() - t0:.1f} s", flush=True)
        if connection.vendor == "postgresql":
            _write_postgres(doses, entries)
        else:
            _write_sqlite(doses, entries)
        sync_balance()  # the lines were written straight to the table
        record("bench_load", clients=clients * centres, doses=len(doses), ledger_lines=len(entries))
    if sqlite and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
    counts = {
        "clients": clients * centres,
        "in_treatment": in_treatment,
        "doses": len(doses),
        "ledger_lines": len(entries),
        "build_s": round(time.perf_counter() - t0, 1),
    }
    return {"centres": centres, **counts} if centres > 1 else counts
