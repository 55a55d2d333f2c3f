"""The nightly eligibility list in DuckDB, over the Parquet files of `pingan synth --format
parquet` (the national-scale path, DESIGN.md §6).

The same counts as `queries.aggregates_set_based`, and the days allowed computed in SQL from
the same tiers, so the whole list is one vectorised query. `decisions` turns the rows into
the same `rules.Decision`s as every other engine. The Parquet files carry no administrative
record (record checks, boxes, consents): those checks fail here, so `ready` is false.

`connect` reads the Parquet files once into DuckDB tables keyed by an integer client id:
the files name clients by their text code, and hashing 57 million strings on every run
cost more than everything else together. Loading is a separate, reported step; the
nightly query reads only the loaded tables.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from . import rules
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

    clients(cid, code, enrolled_on); doses(cid, date); urine(cid, date, pos) with only the
    opioid analytes (opiates, morphine), pos = that result is positive; discharges(cid,
    date); reenrolments(cid, discharged_on, reenrolled_on). Rows naming an unknown client
    are dropped."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
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
    con.execute(
        f"""CREATE TABLE urine AS SELECT c.cid, t.date, t.result = 'positive' AS pos
            FROM {source("urine")} t {key} WHERE t.analyte IN ('opiates', 'morphine')"""
    )
    con.execute(
        f"CREATE TABLE discharges AS SELECT c.cid, t.date FROM {source('discharges')} t {key}"
    )
    con.execute(
        f"""CREATE TABLE reenrolments AS SELECT c.cid, t.discharged_on, t.reenrolled_on
            FROM {source("reenrolments")} t {key}"""
    )
    return con


def _lit(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def sql(rules_: Rules, day: date) -> str:
    """The whole list for `day` as one query (dates are literals: no user input reaches it).

    Every table is read once: doses and urine samples are cut to the longest window (the
    negative run alone looks further back, to the enrolment) before the join on the
    integer id, and all windows are counted in the same pass (count … FILTER)."""
    d = _lit(day)
    windows = rules_.windows
    first = _lit(day - timedelta(days=max(windows)))
    dose_cols = ", ".join(
        f"count(*) FILTER (WHERE x.date >= {_lit(day - timedelta(days=n))}) AS w{n}"
        for n in windows
    )
    neg_cols = ", ".join(
        f"count(*) FILTER (WHERE NOT sd.pos AND sd.day >= {_lit(day - timedelta(days=n))}) AS n{n}"
        for n in windows
    )

    def start(n: int) -> str:
        return f"greatest({_lit(day - timedelta(days=n))}, ep.e)"

    tier_terms = []
    for t in rules_.tiers:
        w = t.adherence_window
        span = f"least({w}, ep.dot)"
        conds = [
            f"ep.dot >= {t.from_day}",
            f"({span} = 0 OR coalesce(dz.w{w}, 0) * 100 >= {t.adherence_min} * {span})",
        ]
        if t.positive_free_days:
            n = t.positive_free_days
            conds.append(f"(u.last_pos IS NULL OR u.last_pos < {start(n)})")
            if t.needs_one_negative_in_window:
                conds.append(f"({start(n)} >= {d} OR coalesce(u.n{n}, 0) >= 1)")
        if t.min_negative_run:
            conds.append(f"coalesce(u.run, 0) >= {t.min_negative_run}")
        tier_terms.append((t.from_day, f"CASE WHEN {' AND '.join(conds)} THEN {t.days} ELSE 0 END"))
    # Only the tier the day of treatment reaches is judged (rules.decide): the highest first.
    branches = " ".join(
        f"WHEN ep.dot >= {from_day} THEN {term}" for from_day, term in sorted(tier_terms, reverse=True)
    )
    allowed = f"CASE {branches} ELSE 0 END"
    w_select = ", ".join(f"coalesce(dz.w{n}, 0) AS w{n}" for n in windows)
    n_select = ", ".join(f"coalesce(u.n{n}, 0) AS n{n}" for n in windows)
    return f"""
    WITH enr AS (
        SELECT cid, enrolled_on AS d FROM clients
        UNION ALL SELECT cid, reenrolled_on FROM reenrolments),
    ep0 AS (SELECT cid, max(d) AS e FROM enr WHERE d <= {d} GROUP BY cid),
    dis AS (
        SELECT cid, date AS d FROM discharges
        UNION ALL SELECT cid, discharged_on FROM reenrolments),
    ep AS (
        SELECT ep0.cid, ep0.e, date_diff('day', ep0.e, {d}) AS dot FROM ep0
        WHERE NOT EXISTS (SELECT 1 FROM dis WHERE dis.cid = ep0.cid
                          AND dis.d >= ep0.e AND dis.d <= {d})),
    dz AS (
        SELECT x.cid, {dose_cols} FROM doses x JOIN ep USING (cid)
        WHERE x.date >= {first} AND x.date < {d} AND x.date >= ep.e
        GROUP BY x.cid),
    sd AS (
        SELECT r.cid, r.date AS day, bool_or(r.pos) AS pos
        FROM urine r JOIN ep USING (cid)
        WHERE r.date < {d} AND r.date >= ep.e
        GROUP BY r.cid, r.date),
    lp AS (SELECT cid, max(day) FILTER (WHERE pos) AS last_pos FROM sd GROUP BY cid),
    u AS (
        SELECT sd.cid, lp.last_pos,
            count(*) FILTER (WHERE NOT sd.pos AND (lp.last_pos IS NULL OR sd.day > lp.last_pos))
                AS run, {neg_cols}
        FROM sd JOIN lp USING (cid) GROUP BY sd.cid, lp.last_pos)
    SELECT c.code AS client, ep.e AS enrolled_on, {w_select}, {n_select},
        u.last_pos, coalesce(u.run, 0) AS run, {allowed} AS allowed_days
    FROM ep JOIN clients c USING (cid) LEFT JOIN dz USING (cid) LEFT JOIN u USING (cid)
    ORDER BY ep.cid
    """
def table(con, rules_: Rules, day: date):
    """The list as an Arrow table (client, counts, allowed_days): the benchmark's unit."""
    return con.sql(sql(rules_, day)).to_arrow_table()


def aggregates(con, rules_: Rules, day: date) -> list[tuple[rules.Aggregates, int]]:
    """Each client's counts with the days DuckDB allowed."""
    windows = rules_.windows
    out = []
    for row in con.execute(sql(rules_, day)).fetchall():
        code, enrolled, *rest = row
        w = rest[: len(windows)]
        n = rest[len(windows) : 2 * len(windows)]
        last_pos, run, allowed = rest[2 * len(windows) :]
        agg = rules.Aggregates(
            code=code,
            enrolled_on=enrolled,
            doses_in=dict(zip(windows, map(int, w), strict=True)),
            negatives_in=dict(zip(windows, map(int, n), strict=True)),
            last_positive=last_pos,
            negative_run=int(run),
        )
        out.append((agg, int(allowed)))
    return out


def decisions(con, rules_: Rules, day: date) -> list[rules.Decision]:
    return [rules.decide(agg, rules_, day) for agg, _allowed in aggregates(con, rules_, day)]
