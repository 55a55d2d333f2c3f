"""Nightly take-home eligibility at scale (docs/performance.md).

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

import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

DAYS = 180
SCALES = {
    "small": {"clients": 2_000, "db_clients": {"sqlite": 2_000}},
    # ORM inserts bound SQLite's share; PostgreSQL is loaded with COPY, at national scale.
    "full": {"clients": 350_000, "db_clients": {"sqlite": 20_000, "postgresql": 350_000}},
}


def make_parquet(
    folder: Path, clients: int, day: date, days: int = DAYS, seed: float = 0.42
) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
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


def _median(fn, repeat: int = 3) -> tuple[float, object, float, float]:
    """Median wall time, the result, the median CPU time of this process (all its threads)
    and the 1-minute load average before the runs: the machine may be shared."""
    walls, cpus, result = [], [], None
    load = os.getloadavg()[0]
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), result, statistics.median(cpus), load


def _exports(con, folder: Path, limit: int, vendor: str) -> dict[str, tuple[str, str]]:
    """table -> (columns, DuckDB query giving its rows) for the first `limit` clients, with
    the database's ids. Creates the helper tables `c` (clients) and `s` (samples) in `con`."""
    from pingan.core.models import Centre
    from pingan.labs.opioid_sql import is_opioid

    opioid = is_opioid()
    centre = Centre.current().pk
    if vendor == "postgresql":
        uuid, now = "uuid()", "TIMESTAMPTZ '2026-01-01 00:00:00+00'"
    else:  # SQLite keeps UUIDs as 32 hex digits and times as text
        uuid, now = "replace(CAST(uuid() AS VARCHAR), '-', '')", "'2026-01-01 00:00:00'"
    con.execute(
        f"""CREATE TABLE c AS SELECT (row_number() OVER (ORDER BY code))::INTEGER AS id, code,
            enrolled_on FROM '{folder}/clients.parquet' ORDER BY code LIMIT {limit}"""
    )
    # A sample per client and day, with the opioid outcome the database's triggers would
    # give it (they are off during a COPY load).
    con.execute(
        f"""CREATE TABLE s AS SELECT row_number() OVER (ORDER BY c.id, u.date) AS id,
            {uuid} AS external_id, {now} AS created_at, c.id AS client_id,
            u.date AS collected_on, true AS observed, false AS scheduled, u.opioid
            FROM (SELECT client_code, date, CASE
                    WHEN bool_or(result = 'positive') FILTER (WHERE {opioid}) THEN 1
                    WHEN count(*) FILTER (WHERE {opioid}) > 0 THEN 0 END AS opioid
                FROM '{folder}/urine.parquet' GROUP BY client_code, date) u
            JOIN c ON c.code = u.client_code"""
    )
    return {
        "registry_client": (
            "id, external_id, created_at, centre_id, code, alias, sex, birth_year, language, photo",
            f"SELECT id, {uuid}, {now}, {centre}, code, 'A', 'M', 1980, 'zh-hans', '' FROM c",
        ),
        "registry_episode": (
            "id, external_id, created_at, client_id, centre_id, enrolled_on, discharge_reason,"
            " discharge_note",
            f"SELECT id, {uuid}, {now}, id, {centre}, enrolled_on, '', '' FROM c",
        ),
        "dosing_dose": (
            "external_id, created_at, client_id, date, kind, mg, drug, form, strength_mg_per_ml,"
            " volume_ml, mg_in_clinic, mg_taken_home, given_at, note, capped",
            f"""SELECT {uuid}, {now}, c.id, d.date, 'clinic', 60, 'methadone hydrochloride',
                'oral solution', 1, 60, 60, 0, {now}, '', false
                FROM '{folder}/doses.parquet' d JOIN c ON c.code = d.client_code""",
        ),
        "labs_urinesample": (
            "id, external_id, created_at, client_id, collected_on, observed, scheduled, opioid",
            "SELECT * FROM s",
        ),
        "labs_urineresult": (
            "sample_id, analyte, result",
            f"""SELECT s.id, u.analyte, u.result FROM s JOIN c ON c.id = s.client_id
                JOIN '{folder}/urine.parquet' u
                ON u.client_code = c.code AND u.date = s.collected_on""",
        ),
    }


def _copy_into_postgres(folder: Path, limit: int, scratch: bool = True) -> None:
    """The first `limit` clients into PostgreSQL with COPY (ORM inserts would take hours at
    56 million doses): DuckDB writes each table as CSV with the database's ids.

    In a scratch database the indexes of the dose table are dropped during the load and
    rebuilt after it, then the whole database is vacuumed and analysed. Not in the test
    suite's database (`scratch=False`): its schema and its planner statistics must stay as
    the other tests expect them."""
    import duckdb
    from django.db import connection

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    exports = _exports(con, folder, limit, "postgresql")
    with tempfile.TemporaryDirectory(prefix="pingan-copy-") as tmp, connection.cursor() as cur:
        cur.execute(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'dosing_dose'"
            " AND indexname <> 'dosing_dose_pkey'"
        )
        dose_indexes = cur.fetchall() if scratch else []
        for _definition, name in dose_indexes:
            cur.execute("SELECT conname FROM pg_constraint WHERE conname = %s", [name])
            if cur.fetchone():
                cur.execute(f'ALTER TABLE dosing_dose DROP CONSTRAINT "{name}"')
            else:
                cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
        for table, (columns, query) in exports.items():
            path = Path(tmp) / f"{table}.csv"
            con.execute(f"COPY ({query}) TO '{path}' (HEADER false)")
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                with path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
            path.unlink()
        cur.execute("SET session_replication_role = origin")
        for definition, _name in dose_indexes:
            cur.execute(definition)
        # The nightly list reads the dose and sample indexes only (index-only scans), which
        # needs the visibility map a VACUUM writes, as autovacuum would on a live server.
        if scratch:
            cur.execute("VACUUM ANALYZE")
    con.close()


def _insert_into_sqlite(folder: Path, limit: int) -> None:
    """The first `limit` clients into SQLite: plain multi-row inserts of the same rows."""
    import duckdb
    from django.db import connection, transaction

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    exports = _exports(con, folder, limit, "sqlite")
    with transaction.atomic(), connection.cursor() as cur:
        for table, (columns, query) in exports.items():
            marks = ", ".join("%s" for _ in columns.split(","))
            result = con.execute(query)
            while rows := result.fetchmany(20_000):
                cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    con.close()


def _row(engine: str, clients: int, wall: float, cpu: float | None = None, load=None, **more):
    row = {"engine": engine, "clients": clients, "seconds": round(wall, 3)}
    if cpu is not None:
        row["cpu_s"] = round(cpu, 2)
    if load is not None:
        row["load"] = round(load, 1)
    return row | more


def _database_engines(
    folder: Path,
    day: date,
    limit: int,
    sample: int,
    rules_,
    duck: tuple[int, float, dict],
    in_place: bool = False,
) -> list[dict]:
    """Load the first `limit` clients, time the set-based list and the per-client engine.

    `duck` = (clients, seconds, days allowed by code) of the DuckDB list in the same run:
    the database list must allow the same days to the same clients, and the per-client
    cost (linear in clients) is also compared with DuckDB's at its population.
    `in_place`: load into the current (empty test) database instead of a throwaway one."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from pingan.registry.models import Client
    from pingan.takehome import nightly, queries

    if not in_place:
        setup_test_environment()
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        vendor = connection.vendor
        t0 = time.perf_counter()
        if vendor == "postgresql":
            _copy_into_postgres(folder, limit, scratch=not in_place)
        else:
            _insert_into_sqlite(folder, limit)
        load_s = time.perf_counter() - t0
        whole, listed, cpu, load = _median(lambda: nightly.nightly_list(day, rules_))
        n = min(len(listed), 20_000)
        t0 = time.perf_counter()
        nightly.NightlyList(day, rules_, listed.rows[:n]).decisions()
        per_decision = (time.perf_counter() - t0) / max(n, 1)
        clients = list(Client.objects.order_by("code").defer("photo")[:sample])
        t0 = time.perf_counter()
        queries.evaluate_per_client(day, rules_, clients)
        per_client = (time.perf_counter() - t0) / len(clients) * limit
    finally:
        if not in_place:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()
    differ = sum(1 for row in listed.rows if duck[2].get(row[1]) != row[-1])
    return [
        _row(f"{vendor}: load (outside the timing)", limit, load_s),
        _row(
            f"{vendor} set-based list (days allowed in SQL)",
            limit,
            whole,
            cpu,
            load,
            allowed=listed.allowed_count,
            differ_from_duckdb=differ,
            goal="≤ 20 s at 350,000 (PostgreSQL)",
        ),
        _row(
            f"{vendor}: Decision objects on demand ({n} built, extrapolated)",
            limit,
            per_decision * limit,
            per_client_us=round(per_decision * 1e6),
        ),
        _row(
            f"{vendor} per-client ORM (sample {sample}, extrapolated)",
            limit,
            per_client,
            ratio_to_set_based=f"{per_client / whole:.0f}x",
            ratio_to_duckdb_list=f"{per_client / limit * duck[0] / duck[1]:.0f}x",
            goal="≥ 100x",
        ),
    ]


def run(
    scale: str = "small",
    clients: int | None = None,
    sample: int = 500,
    keep: str = "",
    in_place: bool = False,
) -> list[dict]:
    """`keep`: a folder to reuse the generated Parquet population from (made if empty);
    `in_place`: use the current database (the test suite's) instead of a throwaway one."""
    from django.db import connection

    from pingan.core import extras
    from pingan.takehome import duck
    from pingan.takehome.standard import profile_rules

    extras.duckdb()  # a clear message, before any work, when DuckDB is not installed
    spec = SCALES[scale]
    clients = clients or spec["clients"]
    rules_ = profile_rules("pingan")
    day = date(2026, 6, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pingan-bench-") as tmp:
        folder = Path(keep or tmp)
        t0 = time.perf_counter()
        if not (folder / "doses.parquet").exists():
            folder.mkdir(parents=True, exist_ok=True)
            make_parquet(folder, clients, day)
        rows.append(_row("generate Parquet (DuckDB)", clients, time.perf_counter() - t0))
        t0, c0 = time.perf_counter(), time.process_time()
        con = duck.connect(folder)
        rows.append(
            _row(
                "duckdb: read Parquet into tables (outside the timing)",
                clients,
                time.perf_counter() - t0,
                time.process_time() - c0,
                os.getloadavg()[0],
            )
        )
        duck_time, table, duck_cpu, load = _median(lambda: duck.table(con, rules_, day))
        by_code = dict(
            zip(
                table.column("client").to_pylist(),
                table.column("allowed_days").to_pylist(),
                strict=True,
            )
        )
        allowed = sum(1 for v in by_code.values() if v)
        rows.append(
            _row(
                "duckdb set-based list → Arrow (counts, days allowed)",
                clients,
                duck_time,
                duck_cpu,
                load,
                allowed=allowed,
                goal="≤ 2 s at 350,000",
            )
        )
        n = min(clients, 20_000)
        t0 = time.perf_counter()
        duck.decisions_of(table.slice(0, n), rules_, day)
        per = (time.perf_counter() - t0) / n
        rows.append(
            _row(
                f"duckdb: Decision objects on demand ({n} built, extrapolated)",
                clients,
                per * clients,
                per_client_us=round(per * 1e6),
            )
        )
        db = spec["db_clients"].get(connection.vendor, spec["db_clients"]["sqlite"])
        limit = min(clients, db)
        rows.extend(
            _database_engines(
                folder,
                day,
                limit,
                min(sample, limit),
                rules_,
                (clients, duck_time, by_code),
                in_place,
            )
        )
    for row in rows:
        print(row)
    return rows
