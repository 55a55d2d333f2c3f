"""`pingan bench indicators [--scale small|full]`: the monthly indicator set at national scale.

Data: a synthetic country in the import format as Parquet (clients, discharges, doses,
urine, tests), generated set-based inside DuckDB from range() rather than client by client
(full: 350,000 clients × 365 days, about 100 million dose rows). Two choices a national
dataset would make too: client codes are integers, and the dose and urine files are in
date order (appended day by day), so a month's slice reads a twelfth of the row groups. The shape follows
`pingan synth`: most clients enrolled before the year, the rest during it, about 10%
discharged, attendance around 92%, doses 30-120 mg, one client in five on take-home doses
after 90 days in treatment, two urine samples a month, yearly HIV / HCV / TB tests.

The files are generated once per set of parameters and kept (see `cached`).

Measured in the same run, each the median of several runs:
- floor: one bare DuckDB scan of the dose table (count and sum);
- the facts files (engines.write_facts_files: a row per urine sample, a row per client
  and month of doses), when the folder lacks current ones: written once, like the export,
  and reported apart; the monthly set and the trend are timed with them and again from
  the records alone (no facts files), which must give the same numbers;
- DuckDB: the full core monthly set (engines.DuckEngine), then the 12-month trend (one pass:
  the facts of the twelve months built together), and, for comparison, the same twelve
  months computed one by one; the two must give the same numbers;
- pandas: the same definitions in tests/indicators/pandas_engine.py (pandas comes with the
  `test` extra; the row says so when it is missing; at full scale on a tenth of the clients:
  loading 100 million rows with string codes into pandas needs more memory than the
  machine should give a benchmark; DuckDB is timed on the same tenth for the ratio);
- PostgreSQL (when PINGAN_BENCH_PG_URL is set): the same SQL through engines.compute_db, on
  tables shaped like the centre's own, loaded with COPY (at full scale also the tenth).
Memory: the process's peak resident set after each step (resource.getrusage).
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

SCALES = {"small": (5_000, 5_000), "full": (350_000, 35_000)}  # (clients, reduced clients)
DAYS = 365
START = date(2025, 1, 1)
PERIOD = (2025, 12)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _load() -> str:
    """The 1-minute load average: the machine may be shared, and 2 cores with a load of
    6 give each job a third of what an idle machine would."""
    return f"{os.getloadavg()[0]:.1f}"


def generate(folder: Path, clients: int, threads: int = 2) -> dict[str, int]:
    """Write the five import-format Parquet files for `clients` clients."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    start = f"DATE '{START.isoformat()}'"
    con.execute(
        f"""CREATE TABLE c AS SELECT i,
              CAST(i AS INTEGER) AS code,
              CASE WHEN hash(i, 1) % 10 < 7 THEN {start} - CAST(hash(i, 2) % 1500 AS INTEGER) - 1
                   ELSE {start} + CAST(hash(i, 2) % {DAYS} AS INTEGER) END AS enrolled_on,
              hash(i, 3) % 100 AS u,
              30 + CAST(hash(i, 4) % 91 AS INTEGER) AS mg,
              hash(i, 5) % 5 = 0 AS takehome
            FROM range({clients}) t(i)"""
    )
    con.execute(
        """CREATE TABLE c2 AS SELECT *, CASE WHEN u < 10
              THEN enrolled_on + 20 + CAST(hash(i, 6) % 300 AS INTEGER) END AS discharged_on FROM c"""
    )
    out = {}

    def write(name: str, query: str) -> None:
        path = str(folder / f"{name}.parquet")
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        out[name] = con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]

    write(
        "clients",
        "SELECT code, 'alias' AS alias, 'M' AS sex, CAST(1980 AS SMALLINT) AS birth_year, "
        "enrolled_on FROM c2",
    )
    write(
        "discharges",
        "SELECT code AS client_code, discharged_on AS date, 'dropped_out' AS reason "
        "FROM c2 WHERE discharged_on IS NOT NULL",
    )
    write(
        "reenrolments",
        "SELECT code AS client_code, DATE '2000-01-01' AS discharged_on, '' AS reason, "
        "DATE '2000-01-01' AS reenrolled_on FROM c2 WHERE false",
    )
    days = f"(SELECT d, {start} + CAST(d AS INTEGER) AS day FROM range({DAYS}) t(d))"
    in_care = "dd.day >= c2.enrolled_on AND (c2.discharged_on IS NULL OR dd.day < c2.discharged_on)"
    write(
        "doses",
        f"SELECT c2.code AS client_code, dd.day AS date, "
        "CAST(LEAST(120, c2.mg + CAST(dd.d / 60 AS INTEGER) * 2) AS SMALLINT) AS mg, "
        "CASE WHEN c2.takehome AND dd.day - c2.enrolled_on > 90 AND dd.d % 4 <> 0 "
        "THEN 'takehome' ELSE 'clinic' END AS kind "
        f"FROM c2, {days} dd WHERE {in_care} AND hash(c2.i, dd.d) % 100 < 92 ORDER BY dd.day",
    )
    write(
        "urine",
        f"SELECT c2.code AS client_code, c2.i * 1000 + dd.d AS sample, dd.day AS date, a.analyte, "
        "CASE WHEN hash(c2.i, dd.d, a.k) % 100 < (CASE WHEN c2.takehome THEN 6 ELSE 18 END) "
        "THEN 'positive' ELSE 'negative' END AS result "
        f"FROM c2, {days} dd, (VALUES ('opiates', 1), ('morphine', 2), ('methadone', 3)) a(analyte, k) "
        f"WHERE {in_care} AND (c2.i + dd.d) % 15 = 0 ORDER BY dd.day",
    )
    write(
        "tests",
        f"SELECT code AS client_code, {start} + CAST(hash(i, t.k) % {DAYS} AS INTEGER) AS date, "
        "t.test, CASE WHEN hash(i, t.k, 9) % 100 < (CASE t.test WHEN 'hcv' THEN 40 ELSE 3 END) "
        "THEN 'positive' ELSE 'negative' END AS result "
        "FROM c2, (VALUES ('hiv', 11), ('hcv', 12), ('tb', 13)) t(test, k) WHERE hash(i, t.k, 1) % 10 < 8",
    )
    con.close()
    return out


GENERATOR_VERSION = 1  # bump when generate() changes what it writes
CACHE_ROOT = Path(os.environ.get("PINGAN_BENCH_CACHE", "/tmp/pingan-bench-indicators"))


def cached(clients: int, threads: int = 2) -> tuple[Path, dict[str, int] | None]:
    """The Parquet folder for `clients`, generated once and kept between runs (generation
    takes minutes at full scale). Keyed by every parameter that shapes the data; returns
    the folder and the row counts if it had to be generated now (None if reused)."""
    folder = CACHE_ROOT / f"v{GENERATOR_VERSION}-c{clients}-d{DAYS}-{START.isoformat()}"
    done = folder / "complete"
    if done.is_file():
        return folder, None
    counts = generate(folder, clients, threads)
    done.write_text(repr(counts))
    return folder, counts


class _PgConnection:
    """Enough of a Django connection for engines.compute_db: vendor and cursor()."""

    vendor = "postgresql"

    def __init__(self, raw):
        self.raw = raw

    def cursor(self):
        return self.raw.cursor()


def load_postgres(url: str, folder: Path) -> float:
    """Copy the Parquet files into tables shaped like the centre's (schema bench_indicators)."""
    import duckdb
    import psycopg

    started = time.perf_counter()
    duck = duckdb.connect()
    tables = {
        "registry_episode": (
            "client_id integer, enrolled_on date, discharged_on date",
            "SELECT c.code, c.enrolled_on, d.date FROM "
            f"'{folder}/clients.parquet' c LEFT JOIN '{folder}/discharges.parquet' d ON d.client_code = c.code",
        ),
        "dosing_dose": (
            "client_id integer, date date, mg smallint, kind varchar(10)",
            f"SELECT client_code, date, mg, kind FROM '{folder}/doses.parquet'",
        ),
        "labs_urinesample": (
            "id bigint, client_id integer, collected_on date",
            f"SELECT DISTINCT sample, client_code, date FROM '{folder}/urine.parquet'",
        ),
        "labs_urineresult": (
            "sample_id bigint, analyte varchar(20), result varchar(10)",
            f"SELECT sample, analyte, result FROM '{folder}/urine.parquet'",
        ),
        "labs_infectiontest": (
            "client_id integer, tested_on date, test varchar(5), result varchar(10)",
            f"SELECT client_code, date, test, result FROM '{folder}/tests.parquet'",
        ),
    }
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP SCHEMA IF EXISTS bench_indicators CASCADE")
        pg.execute("CREATE SCHEMA bench_indicators")
        pg.execute("SET search_path = bench_indicators")
        for name, (columns, query) in tables.items():
            pg.execute(f"CREATE UNLOGGED TABLE {name} ({columns})")
            csv_path = folder / f"{name}.csv"
            duck.execute(f"COPY ({query}) TO '{csv_path}' (HEADER false)")
            with (
                pg.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy,
                open(csv_path, "rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            csv_path.unlink()
        pg.execute("CREATE INDEX ON dosing_dose (date, client_id)")
        pg.execute("CREATE INDEX ON registry_episode (client_id)")
        pg.execute("CREATE INDEX ON labs_urinesample (collected_on)")
        pg.execute("CREATE INDEX ON labs_urineresult (sample_id)")
        pg.execute("ANALYZE")
    return time.perf_counter() - started


def _pandas_engine():
    """The pandas re-statement of the definitions, which lives with the tests; None when
    pandas (the `test` extra) is not installed."""
    import importlib.util

    try:
        import pandas  # noqa: F401
    except ImportError:
        return None
    path = Path(__file__).resolve().parents[1] / "tests" / "indicators" / "pandas_engine.py"
    spec = importlib.util.spec_from_file_location("pandas_engine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(scale: str = "small", runs: int | None = None, keep: str | None = None) -> list[dict]:
    from pingan.core import extras
    from pingan.indicators.definitions import CORE_IDS, Period
    from pingan.indicators.engines import DuckEngine, compute_db, write_facts_files

    duckdb = extras.duckdb()

    clients, reduced = SCALES[scale]
    runs = runs or (5 if scale == "small" else 3)
    period = Period(*PERIOD)
    rows: list[dict] = []

    def add(measure, engine, n, seconds, note=""):
        rows.append(
            {
                "measure": measure,
                "engine": engine,
                "clients": f"{n:,}",
                "median_s": f"{seconds:.3f}",
                "peak_rss_mb": _peak_mb(),
                "load": _load(),
                "note": note,
            }
        )

    with tempfile.TemporaryDirectory(prefix="pingan-bench-ind-"):
        started = time.perf_counter()
        if keep:
            full_dir, small_dir = Path(keep) / "full", Path(keep) / "reduced"
            counts = generate(full_dir, clients)
            if reduced != clients:
                generate(small_dir, reduced)
        else:
            full_dir, counts = cached(clients)
            small_dir = cached(reduced)[0] if reduced != clients else full_dir
        if reduced == clients:
            small_dir = full_dir
        add(
            "generate Parquet",
            "duckdb",
            clients,
            time.perf_counter() - started,
            f"{counts['doses']:,} dose rows" if counts else f"reused {full_dir}",
        )

        # The facts files the engine reads (engines.write_facts_files), written once
        # beside the records, as export_parquet does.
        for folder in dict.fromkeys((full_dir, small_dir)):
            started = time.perf_counter()
            written = write_facts_files(folder, threads=2, if_stale=True)
            if written:
                add(
                    "write the facts files",
                    "duckdb",
                    clients if folder == full_dir else reduced,
                    time.perf_counter() - started,
                    ", ".join(f"{name} {n:,} rows" for name, n in written.items())
                    + "; once per export",
                )

        con = duckdb.connect()
        con.execute("SET threads = 2")
        floor = _median(
            lambda: con.execute(
                f"SELECT count(*), sum(mg) FROM '{full_dir}/doses.parquet'"
            ).fetchall(),
            runs,
        )
        add("floor: count+sum of doses", "duckdb", clients, floor)

        started = time.perf_counter()
        engine = DuckEngine(full_dir, threads=2)
        add("episodes from import files", "duckdb", clients, time.perf_counter() - started)

        def month():
            engine.reset()
            return engine.compute(period, CORE_IDS)

        duck_month = _median(month, runs)
        add(
            f"monthly set ({len(CORE_IDS)} core indicators)",
            "duckdb",
            clients,
            duck_month,
            f"{duck_month / floor:.1f}× floor; goal ≤ 0.5 s",
        )

        def year():
            engine.reset()
            return engine.trend(period, 12, CORE_IDS)

        duck_trend = _median(year, runs)
        add(
            "12-month trend",
            "duckdb",
            clients,
            duck_trend,
            f"{duck_trend / floor:.1f}× floor; goal ≤ 3 s",
        )
        one_pass = {s.period: s.results for s in year()}

        def month_by_month():
            out = {}
            for p in period.last(12):
                engine.reset()
                out[p] = engine.compute(p, CORE_IDS).results
            return out

        started = time.perf_counter()
        same = month_by_month() == one_pass
        add(
            "12 months one by one",
            "duckdb",
            clients,
            time.perf_counter() - started,
            f"one run; same numbers as the trend: {same}",
        )
        engine.close()

        # Without the facts files: what a folder of records alone costs (the first run
        # after the records change, or files from elsewhere).
        plain = DuckEngine(full_dir, threads=2, facts_files=False)

        def plain_month():
            plain.reset()
            return plain.compute(period, CORE_IDS)

        def plain_year():
            plain.reset()
            return plain.trend(period, 12, CORE_IDS)

        plain_m = _median(plain_month, runs)
        add(
            "monthly set, records alone",
            "duckdb",
            clients,
            plain_m,
            f"{plain_m / floor:.1f}× floor",
        )
        plain_t = _median(plain_year, runs)
        same = {s.period: s.results for s in plain_year()} == one_pass
        add(
            "12-month trend, records alone",
            "duckdb",
            clients,
            plain_t,
            f"{plain_t / floor:.1f}× floor; same numbers as with the files: {same}",
        )
        plain.close()

        small_engine = DuckEngine(small_dir, threads=2)

        def small_month():
            small_engine.reset()
            return small_engine.compute(period, CORE_IDS)

        duck_small = _median(small_month, runs) if small_dir != full_dir else duck_month
        if small_dir != full_dir:
            add("monthly set", "duckdb", reduced, duck_small)
        expected = small_month()

        pandas_engine = _pandas_engine()
        if pandas_engine is None:
            rows.append(
                {
                    "measure": "monthly set",
                    "engine": "pandas",
                    "clients": f"{reduced:,}",
                    "median_s": "—",
                    "note": "not run: pandas is not installed (pip install -e '.[test]')",
                }
            )
        else:
            started = time.perf_counter()
            frames = pandas_engine.PandasFrames.from_duck(small_engine)
            add("load into pandas", "pandas", reduced, time.perf_counter() - started)
            got = pandas_engine.compute_pandas(frames, period)
            same = all(got.results[i] == expected.results[i] for i in CORE_IDS)
            pandas_month = _median(lambda: pandas_engine.compute_pandas(frames, period), runs)
            add(
                "monthly set",
                "pandas",
                reduced,
                pandas_month,
                f"{pandas_month / duck_small:.1f}× duckdb; same numbers: {same}",
            )
            frames = None  # free the frames before PostgreSQL

        url = os.environ.get("PINGAN_BENCH_PG_URL", "")
        if url:
            import psycopg

            load = load_postgres(url, small_dir)
            add("load (COPY + indexes)", "postgresql", reduced, load)
            with psycopg.connect(url) as raw:
                raw.execute("SET search_path = bench_indicators")
                pg = _PgConnection(raw)
                got = compute_db(period, CORE_IDS, conn=pg)
                same = all(got.results[i] == expected.results[i] for i in CORE_IDS)
                pg_month = _median(
                    lambda: compute_db(period, CORE_IDS, conn=pg), max(1, runs // 2 + 1)
                )
                add(
                    "monthly set",
                    "postgresql",
                    reduced,
                    pg_month,
                    f"{pg_month / duck_small:.1f}× duckdb; same numbers: {same}",
                )
                raw.execute("DROP SCHEMA bench_indicators CASCADE")
                raw.commit()
        else:
            rows.append(
                {
                    "measure": "monthly set",
                    "engine": "postgresql",
                    "note": "skipped: PINGAN_BENCH_PG_URL not set",
                }
            )
        small_engine.close()
    return rows


if __name__ == "__main__":
    import sys

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings.demo")
    django.setup()
    from pingan.ops.management.commands.bench import print_table

    print_table(run(sys.argv[1] if len(sys.argv) > 1 else "small"), print)
