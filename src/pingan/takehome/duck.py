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

    clients(cid, code, enrolled_on); doses(cid, date); samples(cid, day, pos, next_pos):
    the days with an opioid result (opiates, morphine), pos = one of them is positive;
    discharges(cid, date); reenrolments(cid, discharged_on, reenrolled_on). Rows naming an unknown client
    are dropped."""
    import duckdb

    con = duckdb.connect()
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
    # One row per collection day, as UrineSample holds them in the database: positive if
    # either opioid analyte is (the Parquet file has one row per analyte). `next_pos`, the
    # next positive day after this one, lets the nightly query count the negative run in
    # the same pass as everything else: a negative day before D is in the run exactly when
    # no positive follows it before D.
    con.execute(
        f"""CREATE TABLE samples AS
            WITH days AS (
                SELECT c.cid, t.date AS day, bool_or(t.result = 'positive') AS pos
                FROM {source("urine")} t {key} WHERE t.analyte IN ('opiates', 'morphine')
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
        f"count(*) FILTER (WHERE NOT s.pos AND s.day >= {_lit(day - timedelta(days=n))}) AS n{n}"
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
        f"WHEN ep.dot >= {from_day} THEN {term}"
        for from_day, term in sorted(tier_terms, reverse=True)
    )
    allowed = f"CASE {branches} ELSE 0 END"
    w_select = ", ".join(f"coalesce(dz.w{n}, 0) AS w{n}" for n in windows)
    n_select = ", ".join(f"coalesce(u.n{n}, 0) AS n{n}" for n in windows)
    dz_cols = ", ".join(f"a.w{n} - coalesce(c.w{n}, 0) AS w{n}" for n in windows)
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
    recent AS (SELECT cid, e FROM ep WHERE e > {first}),
    dz_all AS (
        SELECT cid, {dose_cols} FROM doses x
        WHERE x.date >= {first} AND x.date < {d} GROUP BY cid),
    dz_cut AS (
        SELECT x.cid, {dose_cols} FROM doses x JOIN recent USING (cid)
        WHERE x.date >= {first} AND x.date < recent.e GROUP BY x.cid),
    dz AS (SELECT a.cid, {dz_cols} FROM dz_all a LEFT JOIN dz_cut c USING (cid)),
    u AS (
        SELECT s.cid, max(s.day) FILTER (WHERE s.pos) AS last_pos,
            count(*) FILTER (WHERE NOT s.pos AND (s.next_pos IS NULL OR s.next_pos >= {d}))
                AS run, {neg_cols}
        FROM samples s JOIN ep USING (cid)
        WHERE s.day < {d} AND s.day >= ep.e GROUP BY s.cid)
    SELECT c.code AS client, ep.e AS enrolled_on, {w_select}, {n_select},
        u.last_pos, coalesce(u.run, 0) AS run, {allowed} AS allowed_days
    FROM ep JOIN clients c USING (cid) LEFT JOIN dz USING (cid) LEFT JOIN u USING (cid)
    ORDER BY ep.cid
    """


def table(con, rules_: Rules, day: date):
    """The nightly list as an Arrow table, one row per client in treatment, in code order:
    client, enrolled_on, w<N> and n<N> per window, last_pos, run, allowed_days.

    This is the list itself: the days allowed are decided in SQL. Building a `Decision`
    (every check with its translated evidence) costs far more per client than the query,
    so it is done on demand, for the rows a screen or an export shows (`decisions_of`)."""
    return con.sql(sql(rules_, day)).to_arrow_table()


def _aggregates(rows, windows: tuple[int, ...]) -> list[tuple[rules.Aggregates, int]]:
    out = []
    for code, enrolled, *rest in rows:
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


def aggregates(con, rules_: Rules, day: date) -> list[tuple[rules.Aggregates, int]]:
    """Each client's counts with the days DuckDB allowed."""
    return _aggregates(con.execute(sql(rules_, day)).fetchall(), rules_.windows)


def decisions_of(rows, rules_: Rules, day: date) -> list[rules.Decision]:
    """The Decisions for some rows of `table` (an Arrow table or a slice of one)."""
    columns = [rows.column(i).to_pylist() for i in range(rows.num_columns)]
    translate = rules.translator()
    return [
        rules.decide(agg, rules_, day, translate)
        for agg, _allowed in _aggregates(zip(*columns, strict=True), rules_.windows)
    ]


def decisions(con, rules_: Rules, day: date) -> list[rules.Decision]:
    return decisions_of(table(con, rules_, day), rules_, day)
