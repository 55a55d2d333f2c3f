"""The engines that run the definitions: SQL on the centre's database, DuckDB over Parquet.

The centre's database runs the SQL of `sql.py` as written. DuckDB, made for national
datasets, runs the same definitions from facts per client and month (`duckdb_facts.py`),
which the engine-agreement tests hold to the numbers of `sql.py`; `DuckEngine.compute_sql`
still runs `sql.py` as written, over the same four relations (ep, dose, urine, itest).
Indicators whose data live in other apps (referrals, services, inpatient) come from
`modules.py` on the centre's database and are null, with a note, where those data are not
available (the import-format Parquet files hold none).

DuckDB and pyarrow come with the `analytics` extra and are imported only when a DuckDB
engine or a Parquet export is asked for (`core.extras`): the centre's own screens and
figures need neither.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

from django.db import connection as default_connection
from django.utils.translation import gettext as _

from pingan.core import extras
from pingan.core.models import Centre
from pingan.dosing.models import Dose
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.models import Client, Episode

from . import modules
from .definitions import (
    BY_ID,
    CORE_IDS,
    DOSE_LOOKBACK_DAYS,
    INDICATORS,
    IndicatorSet,
    Period,
    make_result,
    unavailable,
)
from .duckdb_facts import (
    Facts,
    dose_month_rows,
    sample_counts,
    test_block_rows,
    urine_month_rows,
)
from .sql import DUCKDB, POSTGRESQL, QUERIES, SQLITE, Dialect

Progress = Callable[[str], None] | None

# The four relations over the Django tables, whose names come from the models.
DB_SOURCES = {
    "ep": f"SELECT client_id AS client, enrolled_on, discharged_on FROM {Episode._meta.db_table}",
    "dose": f"SELECT client_id AS client, date AS day, mg, kind FROM {Dose._meta.db_table}",
    "urine": (
        "SELECT s.client_id AS client, s.id AS sample, s.collected_on AS day, r.analyte, "
        f"r.result FROM {UrineSample._meta.db_table} s "
        f"JOIN {UrineResult._meta.db_table} r ON r.sample_id = s.id"
    ),
    "itest": (
        "SELECT client_id AS client, tested_on AS day, test, result "
        f"FROM {InfectionTest._meta.db_table}"
    ),
}


def dialect_of(conn) -> Dialect:
    return POSTGRESQL if conn.vendor == "postgresql" else SQLITE


def centre_clients(centre_id: int) -> str:
    """The clients of one centre, as SQL: the population every relation is cut to when the
    figures are a centre's rather than the pooled region's."""
    return f"SELECT id FROM {Client._meta.db_table} WHERE centre_id = {int(centre_id)}"


def db_sources(centre_id: int | None = None) -> dict[str, str]:
    """The four relations, of one centre's clients when `centre_id` is given (every
    indicator reads its population through them, so the cut is made once, here)."""
    if centre_id is None:
        return DB_SOURCES
    mine = centre_clients(centre_id)
    return {
        name: f"SELECT * FROM ({body}) src WHERE src.client IN ({mine})"
        for name, body in DB_SOURCES.items()
    }


# SQLite reads `AS NOT MATERIALIZED` from 3.35 on; older ones would refuse the query.
_SQLITE_HINTS = sqlite3.sqlite_version_info >= (3, 35)


def with_db_sources(x: Dialect, query: str, centre_id: int | None = None) -> str:
    """Prefix a query with the source CTEs (of one centre's clients when `centre_id` is
    given). NOT MATERIALIZED keeps PostgreSQL and SQLite from copying a whole table when a
    CTE is read twice: SQLite then copied every dose of the region into a temporary table
    for each query and searched it by client alone, where the dose table's own index
    finds a client's days directly; a region's month took 24 times as long
    (docs/performance.md, "Regional indicator dashboard")."""
    hinted = x.name == "postgresql" or (x.name == "sqlite" and _SQLITE_HINTS)
    hint = "NOT MATERIALIZED " if hinted else ""
    head = ", ".join(f"{name} AS {hint}({body})" for name, body in db_sources(centre_id).items())
    assert query.startswith("WITH ")
    return f"WITH {head}, {query[5:]}"


def _wanted(ids: Iterable[str] | None) -> list[str]:
    return [i.id for i in INDICATORS] if ids is None else [i for i in ids if i in BY_ID]


def compute_db(
    period: Period, ids: Iterable[str] | None = None, conn=None, centre_id: int | None = None
) -> IndicatorSet:
    """The indicator set on the installation's database (SQLite or PostgreSQL): of one
    centre's clients when `centre_id` is given, else of every centre (the pooled region)."""
    conn = conn or default_connection
    x = dialect_of(conn)
    out = IndicatorSet(period)
    with conn.cursor() as cursor:
        for ind_id in _wanted(ids):
            ind = BY_ID[ind_id]
            if ind.source == "core":
                cursor.execute(with_db_sources(x, QUERIES[ind_id](x, period), centre_id))
                out.results[ind_id] = make_result(ind, cursor.fetchone())
            else:
                out.results[ind_id] = modules.compute(ind, period, centre_id)
    return out


def trend(compute: Callable[[Period], IndicatorSet], last: Period, months: int = 12):
    """The same set for each of the `months` months ending with `last`."""
    return [compute(p) for p in last.last(months)]


# The column every file of a region's export carries beside client_code: client codes are
# unique within a centre only, so a client is known by both.
CENTRE_CODE = "centre_code"


def client_key(centred: bool) -> str:
    """The expression the DuckDB engine knows a client by in a file's rows: the client code,
    and in files that carry the centre, the pair as one string (the centre code's length
    first, so no two pairs give the same string whatever the codes hold)."""
    if not centred:
        return "client_code"
    return f"CAST(length({CENTRE_CODE}) AS VARCHAR) || ':' || {CENTRE_CODE} || '/' || client_code"


def _columns(con, path: Path) -> list[str]:
    quoted = "'" + str(path).replace("'", "''") + "'"
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {quoted}").fetchall()]


class UnknownCentre(ValueError):
    """A centre was asked of Parquet files that do not carry the centre (import format)."""


class DuckEngine:
    """DuckDB over a directory of Parquet files.

    Two layouts are read: the import format written by `pingan synth --format parquet`
    (clients, doses, urine, tests, discharges and reenrolments, keyed by client code; one
    enrolment per client plus the breaks in reenrolments.parquet) and the export of a
    region's database by `export_parquet` (episodes.parquet instead of clients/discharges,
    a sample id on every urine row, and the centre code on every row).

    With `centre` (a centre code; export files only) every relation holds that centre's
    clients alone, cut in one place (`_read`), as `db_sources` does on the database;
    without it, every centre's (the pooled region). A code the files hold no rows of gives
    zeros, as a centre without clients does on the database (`centres()` lists those held)."""

    def __init__(
        self,
        folder: Path | str,
        threads: int | None = None,
        memory_limit: str = "",
        facts_files: bool = True,
        centre: str | None = None,
    ):
        duckdb = extras.duckdb()
        self.folder = Path(folder)
        if not (self.folder / "doses.parquet").is_file():
            raise FileNotFoundError(self.folder / "doses.parquet")
        self.con = duckdb.connect()
        self.centred = CENTRE_CODE in _columns(self.con, self.folder / "doses.parquet")
        self.centre = centre
        if centre is not None and not self.centred:
            self.con.close()
            raise UnknownCentre(
                _("These Parquet files do not say which centre a client belongs to.")
            )
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        # Group-bys on integer client codes use DuckDB's perfect hash table (an array
        # indexed by the code) up to 2^22 distinct keys instead of a general hash table.
        self.con.execute("SET perfect_ht_threshold = 22")
        # A trend runs two dozen queries over the same files; without this cache each one
        # re-reads and parses the dose file's footer (745 row groups at national scale).
        self.con.execute("SET parquet_metadata_cache = true")
        self._views(facts_files)
        self._sliced: Period | None = None
        self._facts: Facts | None = None

    def _file(self, name: str) -> str:
        return "'" + str(self.folder / f"{name}.parquet").replace("'", "''") + "'"

    def _has(self, name: str) -> bool:
        return (self.folder / f"{name}.parquet").is_file()

    def centres(self) -> list[str]:
        """The codes of the centres whose clients the files hold (none: import format)."""
        if not self.centred:
            return []
        name = "episodes" if self._has("episodes") else "doses"
        rows = self.con.execute(
            f"SELECT DISTINCT {CENTRE_CODE} FROM read_parquet({self._file(name)}) ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    def _read(self, name: str, columns: str) -> str:
        """Every relation the engine reads from a file of client rows passes here: the one
        place its rows are cut to one centre's clients when the engine has a centre."""
        cut = ""
        if self.centre is not None:
            code = self.centre.replace("'", "''")
            cut = f" WHERE {CENTRE_CODE} = '{code}'"
        return f"SELECT {columns} FROM read_parquet({self._file(name)}){cut}"

    def _views(self, facts_files: bool) -> None:
        """The relations the queries read; with `facts_files`, the files write_facts_files
        left beside the records stand for the rows they hold while they are current."""
        f, run, read = self._file, self.con.execute, self._read
        key = client_key(self.centred)
        run(f"CREATE VIEW dose_all AS {read('doses', f'{key} AS client, date AS day, mg, kind')}")
        urine_cols = _columns(self.con, self.folder / "urine.parquet")
        sample = (
            "sample" if "sample" in urine_cols else "client_code || '/' || CAST(date AS VARCHAR)"
        )
        run(
            "CREATE VIEW urine AS "
            + read("urine", f"{key} AS client, {sample} AS sample, date AS day, analyte, result")
        )
        self.facts_files = frozenset(
            name
            for name in DERIVED
            if facts_files and _derived_current(self.folder, name, self.con)
        )
        run(f"CREATE VIEW usample AS {sample_counts()}")
        for name, view in (
            ("dose_months", "dmonth"),
            ("urine_months", "umonth"),
            ("test_windows", "twin"),
        ):
            if name in self.facts_files:
                columns = f"* EXCLUDE (client_code, {CENTRE_CODE}), {key} AS client"
                run(f"CREATE VIEW {view} AS {read(name, columns)}")
        run(f"CREATE VIEW itest AS {read('tests', f'{key} AS client, date AS day, test, result')}")
        if self._has("episodes"):
            columns = f"{key} AS client, enrolled_on, discharged_on"
            run(f"CREATE TABLE ep AS {read('episodes', columns)}")
            return
        breaks_start = breaks_end = ""
        if self._has("reenrolments"):
            breaks_start = f" UNION ALL SELECT client_code, reenrolled_on FROM read_parquet({f('reenrolments')})"
            breaks_end = f" UNION ALL SELECT client_code, discharged_on FROM read_parquet({f('reenrolments')})"
        discharges = (
            f"SELECT client_code AS client, date AS d FROM read_parquet({f('discharges')})"
            if self._has("discharges")
            else "SELECT NULL::VARCHAR AS client, NULL::DATE AS d WHERE false"
        )
        # The k-th enrolment of a client ends at their k-th discharge (none: still open).
        run(
            "CREATE TABLE ep AS WITH "
            f"st AS (SELECT code AS client, enrolled_on AS d FROM read_parquet({f('clients')})"
            f"{breaks_start}), "
            f"en AS ({discharges}{breaks_end}), "
            "s AS (SELECT client, d, row_number() OVER (PARTITION BY client ORDER BY d) AS k FROM st), "
            "e AS (SELECT client, d, row_number() OVER (PARTITION BY client ORDER BY d) AS k FROM en) "
            "SELECT s.client, s.d AS enrolled_on, e.d AS discharged_on FROM s "
            "LEFT JOIN e ON e.client = s.client AND e.k = s.k"
        )

    def _slice(self, period: Period) -> None:
        """Keep only the doses the definitions can read for this period (DOSE_LOOKBACK_DAYS):
        one scan of the big table, then every query reads a month's worth."""
        if self._sliced == period:
            return
        since = period.start - timedelta(days=DOSE_LOOKBACK_DAYS)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE dose AS SELECT * FROM dose_all "
            f"WHERE day BETWEEN {DUCKDB.d(since)} AND {DUCKDB.d(period.end)}"
        )
        self._sliced = period

    def facts(self, first: Period, last: Period) -> Facts:
        """The per-client-month facts for first..last, reused while they cover what is asked."""
        if self._facts is None or not (self._facts.covers(first) and self._facts.covers(last)):
            self._facts = Facts(self.con, first, last, self.facts_files)
        return self._facts

    def _set(self, period: Period, numbers: dict[str, tuple], ids) -> IndicatorSet:
        out = IndicatorSet(period)
        for ind_id in _wanted(ids):
            if ind_id in CORE_IDS:
                out.results[ind_id] = make_result(BY_ID[ind_id], numbers[ind_id])
            else:
                out.results[ind_id] = unavailable(_("not in the Parquet files"))
        return out

    def compute(self, period: Period, ids: Iterable[str] | None = None) -> IndicatorSet:
        """The set for one month, from the facts (duckdb_facts.py)."""
        return self._set(period, self.facts(period, period).numbers()[period], ids)

    def trend(self, last: Period, months: int = 12, ids=None) -> list[IndicatorSet]:
        """The set for each of the `months` months ending with `last`, in one pass."""
        facts = self.facts(last.shift(1 - months), last)
        return [self._set(p, facts.numbers()[p], ids) for p in last.last(months)]

    def compute_sql(self, period: Period, ids: Iterable[str] | None = None) -> IndicatorSet:
        """The set for one month by running each query of sql.py as written: the reference
        the facts are checked against (tests), and the plain way for small data."""
        self._slice(period)
        out = IndicatorSet(period)
        for ind_id in _wanted(ids):
            ind = BY_ID[ind_id]
            if ind_id in CORE_IDS:
                row = self.con.execute(QUERIES[ind_id](DUCKDB, period)).fetchone()
                out.results[ind_id] = make_result(ind, row)
            else:
                out.results[ind_id] = unavailable(_("not in the Parquet files"))
        return out

    def reset(self) -> None:
        """Forget the facts and the dose slice (the benchmark times a cold month)."""
        self._facts, self._sliced = None, None

    def close(self) -> None:
        self.con.close()


# Files derived from the records when they are written (write_facts_files): name -> the
# record file it is made from, and the query that makes it. Each file carries, under
# MADE_FROM, a digest of that query (so of the definitions it is generated from: sql.py's
# conditions, the labs' analytes, and the centre_code column every row now has) and the
# record file's size and time; the engine reads it only while they still match.
DERIVED = {"dose_months": "doses", "urine_months": "urine", "test_windows": "tests"}
MADE_FROM = "pingan_made_from"


def _derived_query(name: str, centred: bool) -> str:
    """Rows keyed by centre_code, client_code and month mi, in month order. Files without a
    centre (the import format) give a null centre_code, and group by the client alone (an
    integer code groups through DuckDB's perfect hash table)."""
    by = {"by": "centre, client"} if centred else {}
    rows = {
        "dose_months": dose_month_rows(**by),
        "urine_months": urine_month_rows(f"({sample_counts(**by)})", **by),
        "test_windows": test_block_rows(**by),
    }[name]
    centre = "centre" if centred else "NULL::VARCHAR"
    order = "blk" if name == "test_windows" else "mi"
    return (
        f"SELECT {centre} AS {CENTRE_CODE}, client AS client_code, "
        f"* EXCLUDE ({by.get('by', 'client')}) "
        f"FROM ({rows}) ORDER BY {order}, client"
    )


def _identity(folder: Path, name: str, centred: bool) -> str:
    stat = (folder / f"{DERIVED[name]}.parquet").stat()
    digest = hashlib.sha256(_derived_query(name, centred).encode()).hexdigest()[:16]
    return f"{digest}:{stat.st_size}:{stat.st_mtime_ns}"


def _derived_current(folder: Path, name: str, con) -> bool:
    """Whether `name`.parquet was made, by today's definitions, from the record file
    beside it as it is now; otherwise the engine computes the same rows per query. A file
    from before the centre was written (no centre_code column) is never current."""
    path = folder / f"{name}.parquet"
    if not path.is_file() or CENTRE_CODE not in _columns(con, path):
        return False
    centred = CENTRE_CODE in _columns(con, folder / f"{DERIVED[name]}.parquet")
    found = con.execute(
        "SELECT value::VARCHAR FROM parquet_kv_metadata(?) WHERE key::VARCHAR = ?",
        [str(path), MADE_FROM],
    ).fetchall()
    return found == [(_identity(folder, name, centred),)]


def write_facts_files(
    folder: Path | str, threads: int | None = None, if_stale: bool = False
) -> dict[str, int]:
    """Write, beside the record files, what the DuckDB engine would otherwise compute from
    them for every query, one row per client and calendar month, in month order:
    dose_months.parquet, the month's day masks and last dose (`duckdb_facts.dose_month_rows`),
    urine_months.parquet, the month's urine samples counted through the conditions of
    sql.urine_samples (`duckdb_facts.urine_month_rows`), and test_windows.parquet, per client
    and block of 60 months the months whose 365-day window holds an infection test, per
    test (`duckdb_facts.test_block_rows`; in block order, not month order).
    Returns the rows per file written (with `if_stale`, only the files not current)."""
    duckdb = extras.duckdb()
    folder = Path(folder)
    written: dict[str, int] = {}

    def q(path: Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET perfect_ht_threshold = 24")
        urine = q(folder / "urine.parquet")
        cols = _columns(con, folder / "urine.parquet")
        sample = "sample" if "sample" in cols else "date"
        # Files that carry the centre: each row keeps it (client codes are unique within a
        # centre only), grouped by centre and client.
        centred = CENTRE_CODE in _columns(con, folder / "doses.parquet")
        centre = f"{CENTRE_CODE} AS centre, " if centred else ""
        con.execute(
            f"CREATE VIEW urine AS SELECT {centre}client_code AS client, "
            f"{sample} AS sample, date AS day, analyte, result FROM read_parquet({urine})"
        )
        con.execute(
            f"CREATE VIEW dose_all AS SELECT {centre}client_code AS client, date AS day, mg, "
            f"kind FROM read_parquet({q(folder / 'doses.parquet')})"
        )
        con.execute(
            f"CREATE VIEW itest AS SELECT {centre}client_code AS client, date AS day, test, "
            f"result FROM read_parquet({q(folder / 'tests.parquet')})"
        )
        for name in DERIVED:
            if if_stale and _derived_current(folder, name, con):
                continue
            out = q(folder / f"{name}.parquet")
            made_from = _identity(folder, name, centred)
            query = _derived_query(name, centred)
            con.execute(
                f"COPY ({query}) TO {out} "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{MADE_FROM}: '{made_from}'}})"
            )
            written[name] = con.execute(f"SELECT count(*) FROM {out}").fetchone()[0]
    return written


def export_parquet(folder: Path | str, conn=None, batch: int = 200_000) -> dict[str, int]:
    """Write the region's treatment, dose and lab records (never identity, never names:
    client codes only) as Parquet for the DuckDB engine, every row with the code of its
    client's centre (centre_code, then client_code: a client code is unique within its
    centre only). Returns rows per file."""
    pa, pq = extras.pyarrow()
    conn = conn or default_connection
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        f"(SELECT ce.code FROM {Client._meta.db_table} c JOIN {Centre._meta.db_table} ce "
        f"ON ce.id = c.centre_id WHERE c.id = src.client) AS {CENTRE_CODE}, "
        f"(SELECT code FROM {Client._meta.db_table} c WHERE c.id = src.client) AS client_code"
    )
    centre_field = (CENTRE_CODE, pa.string())
    tables = {
        "episodes": (
            f"SELECT {code}, enrolled_on, discharged_on FROM ({DB_SOURCES['ep']}) src",
            [
                centre_field,
                ("client_code", pa.string()),
                ("enrolled_on", pa.date32()),
                ("discharged_on", pa.date32()),
            ],
        ),
        "doses": (
            f"SELECT {code}, day, mg, kind FROM ({DB_SOURCES['dose']}) src",
            [
                centre_field,
                ("client_code", pa.string()),
                ("date", pa.date32()),
                ("mg", pa.int16()),
                ("kind", pa.string()),
            ],
        ),
        "urine": (
            f"SELECT {code}, sample, day, analyte, result FROM ({DB_SOURCES['urine']}) src",
            [
                centre_field,
                ("client_code", pa.string()),
                ("sample", pa.int64()),
                ("date", pa.date32()),
                ("analyte", pa.string()),
                ("result", pa.string()),
            ],
        ),
        "tests": (
            f"SELECT {code}, day, test, result FROM ({DB_SOURCES['itest']}) src",
            [
                centre_field,
                ("client_code", pa.string()),
                ("date", pa.date32()),
                ("test", pa.string()),
                ("result", pa.string()),
            ],
        ),
    }
    counts: dict[str, int] = {}

    def norm(value):
        return (
            date.fromisoformat(value)
            if isinstance(value, str) and len(value) == 10 and value[4] == "-"
            else value
        )

    for name, (query, fields) in tables.items():
        schema = pa.schema(fields)
        counts[name] = 0
        with pq.ParquetWriter(folder / f"{name}.parquet", schema, compression="zstd") as writer:
            with conn.cursor() as cursor:
                cursor.execute(query)
                while True:
                    rows = cursor.fetchmany(batch)
                    if not rows and counts[name]:
                        break
                    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in fields]
                    arrays = [
                        pa.array([norm(v) for v in col], type=f[1])
                        for col, f in zip(columns, fields, strict=True)
                    ]
                    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                    counts[name] += len(rows)
                    if not rows:
                        break
    counts.update(write_facts_files(folder))
    return counts
