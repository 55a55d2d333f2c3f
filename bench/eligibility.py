"""Nightly take-home eligibility at scale (DESIGN.md §6).

Three engines on the same population, 180-day window, the shipped `pingan` profile:
- DuckDB, set-based over Parquet (goal ≤ 2 s at 350,000 clients);
- the set-based SQL engine on the Django database (SQLite by default, PostgreSQL when
  `PINGAN_DATABASE_URL` points at one; goal ≤ 20 s on PostgreSQL at national scale), run in a
  throwaway test database so no real record is touched;
- the per-client engine through the ORM on a sample, extrapolated; the ratio is reported
  (goal ≥ 100×).

The population is generated in DuckDB from `range()` (attendance, weekly urine samples,
occasional positives) and written as Parquet in the `pingan synth --format parquet` schema:
the generator of `pingan synth` is exact but too slow for 63 million rows on two cores.

Run: `pingan bench eligibility [--scale small|full]` (small = 2,000 clients).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

DAYS = 180
SCALES = {
    "small": {"clients": 2_000, "db_clients": 2_000},
    "full": {"clients": 350_000, "db_clients": 20_000},
}


def make_parquet(
    folder: Path, clients: int, day: date, days: int = DAYS, seed: float = 0.42
) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed})")
    start = day - timedelta(days=days)
    con.execute(
        f"""CREATE TABLE clients AS SELECT printf('PA-%07d', i) AS code,
            DATE '{start.isoformat()}' - CAST(floor(random() * 700) AS INTEGER) AS enrolled_on,
            random() AS attend FROM range({clients}) t(i)"""
    )
    con.execute(
        f"""COPY (SELECT code, 'A' || code AS alias, 'M' AS sex, 1980::SMALLINT AS birth_year,
            enrolled_on FROM clients) TO '{folder}/clients.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT c.code AS client_code, DATE '{start.isoformat()}' + d.i::INTEGER AS date,
            60::SMALLINT AS mg, 'clinic' AS kind
            FROM clients c, range({days}) d(i)
            WHERE random() < 0.80 + 0.2 * c.attend) TO '{folder}/doses.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT c.code AS client_code, DATE '{start.isoformat()}' + d.i::INTEGER AS date,
            'opiates' AS analyte,
            CASE WHEN random() < 0.05 THEN 'positive' ELSE 'negative' END AS result
            FROM clients c, range(0, {days}, 7) d(i)) TO '{folder}/urine.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT NULL::VARCHAR AS client_code, NULL::DATE AS date, NULL::VARCHAR AS reason
            WHERE false) TO '{folder}/discharges.parquet' (FORMAT parquet)"""
    )
    con.close()


def _median(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _load_into_database(folder: Path, limit: int) -> None:
    """Copy the first `limit` clients of the Parquet population into the (test) database."""
    import duckdb

    from pingan.audit.signals import capture_paused
    from pingan.dosing.models import Dose
    from pingan.labs.models import UrineResult, UrineSample
    from pingan.registry.models import Client, Episode

    con = duckdb.connect()
    clients = con.execute(
        f"SELECT code, enrolled_on FROM '{folder}/clients.parquet' ORDER BY code LIMIT {limit}"
    ).fetchall()
    codes = {c for c, _ in clients}
    with capture_paused():
        made = Client.objects.bulk_create(
            Client(code=c, alias="A", sex="M", birth_year=1980) for c, _ in clients
        )
        ids = {c.code: c.pk for c in made}
        Episode.objects.bulk_create(Episode(client_id=ids[c], enrolled_on=e) for c, e in clients)
        last = max(codes)
        rows = con.execute(
            f"SELECT client_code, date FROM '{folder}/doses.parquet' WHERE client_code <= '{last}'"
        ).fetchall()
        batch = []
        for code, day in rows:
            batch.append(
                Dose(
                    client_id=ids[code],
                    date=day,
                    mg=60,
                    mg_in_clinic=60,
                    strength_mg_per_ml=1,
                    volume_ml=60,
                    given_at="2026-01-01T00:00:00Z",
                )
            )
            if len(batch) >= 20_000:
                Dose.objects.bulk_create(batch)
                batch = []
        Dose.objects.bulk_create(batch)
        urine = con.execute(
            f"SELECT client_code, date, result FROM '{folder}/urine.parquet'"
            f" WHERE client_code <= '{last}'"
        ).fetchall()
        samples = UrineSample.objects.bulk_create(
            UrineSample(client_id=ids[c], collected_on=d) for c, d, _ in urine
        )
        UrineResult.objects.bulk_create(
            UrineResult(sample=s, analyte="opiates", result=r)
            for s, (_, _, r) in zip(samples, urine, strict=True)
        )


def _database_engines(folder: Path, day: date, limit: int, sample: int, rules_) -> list[dict]:
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from pingan.registry.models import Client
    from pingan.takehome import queries

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _load_into_database(folder, limit)
        vendor = connection.vendor
        set_time, decisions = _median(lambda: queries.eligibility(day, rules_))
        clients = list(Client.objects.order_by("code").defer("photo")[:sample])
        t0 = time.perf_counter()
        queries.evaluate_per_client(day, rules_, clients)
        per_client = (time.perf_counter() - t0) / len(clients) * limit
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    return [
        {
            "engine": f"{vendor} set-based",
            "clients": limit,
            "seconds": round(set_time, 3),
            "allowed": sum(1 for d in decisions if d.allowed_days),
        },
        {
            "engine": f"{vendor} per-client ORM (sample {sample}, extrapolated)",
            "clients": limit,
            "seconds": round(per_client, 1),
            "ratio": f"{per_client / set_time:.0f}x",
        },
    ]


def run(scale: str = "small", clients: int | None = None, sample: int = 500) -> list[dict]:
    from pingan.takehome import duck
    from pingan.takehome.standard import profile_rules

    spec = SCALES[scale]
    clients = clients or spec["clients"]
    rules_ = profile_rules("pingan")
    day = date(2026, 6, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pingan-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_parquet(folder, clients, day)
        rows.append(
            {
                "engine": "generate Parquet (DuckDB)",
                "clients": clients,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        con = duck.connect(folder)
        duck_time, table = _median(lambda: duck.table(con, rules_, day))
        allowed = sum(1 for v in table.column("allowed_days").to_pylist() if v)
        rows.append(
            {
                "engine": "duckdb set-based (Parquet)",
                "clients": clients,
                "seconds": round(duck_time, 3),
                "allowed": allowed,
                "goal": "≤ 2 s at 350,000",
            }
        )
        limit = min(clients, clients if scale == "small" else spec["db_clients"])
        rows.extend(_database_engines(folder, day, limit, min(sample, limit), rules_))
    for row in rows:
        print(row)
    return rows
