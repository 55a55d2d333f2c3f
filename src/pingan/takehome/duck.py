"""The nightly eligibility list in DuckDB, over the Parquet files of `pingan synth --format
parquet` (the national-scale path, docs/performance.md).

The same query shape as the database's nightly list (`listsql`: counts per window and the
days allowed in SQL), so the whole list is one vectorised query. `decisions` turns the rows
into the same `rules.Decision`s as every other engine. The Parquet files carry no administrative
record (record checks, boxes, consents, suspensions): those checks fail here, so `ready` is false.

`connect` reads the Parquet files once into DuckDB tables keyed by an integer client id:
the files name clients by their text code, and hashing 57 million strings on every run
cost more than everything else together. Loading is a separate, reported step; the
nightly query reads only the loaded tables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pingan.core import extras
from pingan.labs.opioid_sql import is_opioid

from . import listsql, rules
from .standard import Rules

TABLES = ("clients", "doses", "urine", "discharges", "reenrolments")

_EMPTY = {
    "discharges": "SELECT NULL::VARCHAR AS client_code, NULL::DATE AS date WHERE false",
    "reenrolments": (
        "SELECT NULL::VARCHAR AS client_code, NULL::DATE AS discharged_on,"
        " NULL::DATE AS reenrolled_on WHERE false"
    ),
}


def connect(parquet_dir: str | Path, threads: int | None = None):
    """An in-memory DuckDB holding the Parquet tables of the directory, keyed by `cid`.

    clients(cid, code, enrolled_on); doses(cid, date); samples(cid, day, pos, next_pos):
    the samples with an opioid result (`labs.rules.OPIOID_ANALYTES`), pos = one is positive;
    discharges(cid, date); reenrolments(cid, discharged_on, reenrolled_on). Rows naming an
    unknown client are dropped."""
    con = extras.duckdb().connect()
    con.execute("SET enable_progress_bar = false")
    # Group by the integer id through a directly indexed table, not a hash table: DuckDB
    # does so only for keys spanning up to 2^12 values unless told (350,000 clients ≈ 2^19).
    con.execute("SET perfect_ht_threshold = 20")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    folder = Path(parquet_dir)

    def source(table: str) -> str:
        path = folder / f"{table}.parquet"
        if path.exists():
            return f"read_parquet('{path.as_posix()}')"
        return f"({_EMPTY[table]})"

    con.execute(
        f"""CREATE TABLE clients AS SELECT (row_number() OVER (ORDER BY code))::INTEGER AS cid,
            code, enrolled_on FROM {source("clients")}"""
    )
    key = "JOIN clients c ON c.code = t.client_code"
    con.execute(f"CREATE TABLE doses AS SELECT c.cid, t.date FROM {source('doses')} t {key}")
    # One sample per client and day (the Parquet file has one row per analyte and names no
    # sample; the import makes the same rows one sample), with the outcome UrineSample.opioid
    # holds in the database: positive if one of its opioid analytes is. `next_pos`, the next positive day after this one, lets the nightly
    # query count the negative run in the same pass as everything else: a negative sample
    # before D is in the run exactly when no positive follows it on a later day before D.
    con.execute(
        f"""CREATE TABLE samples AS
            WITH days AS (
                SELECT c.cid, t.date AS day, bool_or(t.result = 'positive') AS pos
                FROM {source("urine")} t {key} WHERE {is_opioid("t.analyte")}
                GROUP BY c.cid, t.date)
            SELECT cid, day, pos, min(day) FILTER (WHERE pos) OVER (PARTITION BY cid
                ORDER BY day ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_pos
            FROM days"""
    )
    con.execute(
        f"CREATE TABLE discharges AS SELECT c.cid, t.date FROM {source('discharges')} t {key}"
    )
    con.execute(
        f"""CREATE TABLE reenrolments AS SELECT c.cid, t.discharged_on, t.reenrolled_on
            FROM {source("reenrolments")} t {key}"""
    )
    return con


def sql(rules_: Rules, day: date) -> str:
    """The whole list for `day` as one query (listsql: the shape every engine shares).

    Here the episodes come from the enrolment and discharge files, and the negative run
    is counted in the same pass as the rest thanks to the samples' precomputed `next_pos`."""
    q = listsql.DUCKDB
    d = q.date(day)
    negatives = listsql.window_counts(
        rules_.negative_windows, day, q, "s.day", "n", where="NOT s.pos"
    )
    return f"""
    WITH enr AS (
        SELECT cid, enrolled_on AS d FROM clients
        UNION ALL SELECT cid, reenrolled_on FROM reenrolments),
    ep0 AS (SELECT cid, max(d) AS e FROM enr WHERE d <= {d} GROUP BY cid),
    dis AS (
        SELECT cid, date AS d FROM discharges
        UNION ALL SELECT cid, discharged_on FROM reenrolments),
    ep AS (
        SELECT ep0.cid, ep0.e, {q.days("ep0.e", d)} AS dot FROM ep0
        WHERE NOT EXISTS (SELECT 1 FROM dis WHERE dis.cid = ep0.cid
                          AND dis.d >= ep0.e AND dis.d <= {d})),
    {listsql.dose_counts(rules_, day, q, "doses", "cid", "date")},
    u AS (
        SELECT s.cid, max(s.day) FILTER (WHERE s.pos) AS last_pos,
            count(*) FILTER (WHERE NOT s.pos AND (s.next_pos IS NULL OR s.next_pos >= {d}))
                AS run{negatives}
        FROM samples s JOIN ep USING (cid)
        WHERE s.day < {d} AND s.day >= ep.e GROUP BY s.cid)
    SELECT {listsql.select_list(rules_, day, q, "c.code")}
    FROM ep JOIN clients c USING (cid) LEFT JOIN dz USING (cid) LEFT JOIN u USING (cid)
    ORDER BY ep.cid
    """


def table(con, rules_: Rules, day: date):
    """The nightly list as an Arrow table, one row per client in treatment, in code order,
    with the columns of `listsql.row_columns` (the days allowed decided in SQL).

    Building a `Decision` (every check with its translated evidence) costs far more per
    client than the query, so it is done on demand, for the rows a screen or an export
    shows (`decisions_of`)."""
    return con.sql(sql(rules_, day)).to_arrow_table()


def aggregates(con, rules_: Rules, day: date) -> list[tuple[rules.Aggregates, int]]:
    """Each client's counts with the days DuckDB allowed."""
    return [
        (listsql.aggregates_of(row, rules_), int(row[-1]))
        for row in con.execute(sql(rules_, day)).fetchall()
    ]


def decisions_of(rows, rules_: Rules, day: date) -> list[rules.Decision]:
    """The Decisions for some rows of `table` (an Arrow table or a slice of one)."""
    columns = [rows.column(i).to_pylist() for i in range(rows.num_columns)]
    translate = rules.translator()
    return [
        rules.decide(listsql.aggregates_of(row, rules_), rules_, day, translate)
        for row in zip(*columns, strict=True)
    ]


def decisions(con, rules_: Rules, day: date) -> list[rules.Decision]:
    return decisions_of(table(con, rules_, day), rules_, day)
