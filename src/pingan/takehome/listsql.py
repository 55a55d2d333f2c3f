"""The nightly eligibility list as one SQL query, for every set-based engine.

`rules.decide` is the definition of the days allowed; `allowed_days` writes the same
judgement as a SQL expression over per-client counts, so a whole list is decided inside the
database (DuckDB, PostgreSQL or SQLite) and only the rows a screen or export shows become
`Decision` objects. The property test in tests/takehome holds the two together: the days
allowed here equal `decide`'s for every client, profile and day it generates.

The query reads each table once: doses are cut to the longest window before they meet
anything and counted for every window in one pass (`count(*) FILTER`); clients enrolled
inside the window (few) are corrected by a second, small join instead of joining every
dose to its episode. Dates are literals: the day comes from code, never from a user.

The counts the expression reads, by alias: `ep.e` (the enrolment day), `ep.dot` (day of
treatment), `dz.w<N>` (days with a dose in the window of N days, cut at enrolment), `u.n<N>`
(negative samples in that window), `u.last_pos` (latest positive sample since enrolment),
`u.run` (the negative run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import rules
from .standard import Rules, Tier


@dataclass(frozen=True)
class Dialect:
    """What differs between the databases for this query."""

    name: str
    date_prefix: str  # before a quoted ISO date literal
    greatest: str
    least: str
    days_between: str  # days from {a} to {b}, an integer
    # How to ask that a CTE be computed where it is used: PostgreSQL materialises one used
    # several times, and a materialised CTE keeps the query that reads it off parallel workers.
    inline: str = ""

    def date(self, day: date) -> str:
        return f"{self.date_prefix}'{day.isoformat()}'"

    def days(self, a: str, b: str) -> str:
        return self.days_between.format(a=a, b=b)


DUCKDB = Dialect("duckdb", "DATE ", "greatest", "least", "date_diff('day', {a}, {b})")
POSTGRESQL = Dialect(
    "postgresql", "DATE ", "greatest", "least", "({b} - {a})", inline="NOT MATERIALIZED"
)
# SQLite keeps dates as ISO text: they compare as text, and scalar max/min take several.
SQLITE = Dialect("sqlite", "", "max", "min", "CAST(julianday({b}) - julianday({a}) AS INTEGER)")
DIALECTS = {d.name: d for d in (DUCKDB, POSTGRESQL, SQLITE)}


def _tier_passes(t: Tier, day: date, sql: Dialect) -> str:
    """The data-derived criteria of one tier (rules._criteria), as one condition."""
    d = sql.date(day)

    def start(n: int) -> str:
        return f"{sql.greatest}({sql.date(day - timedelta(days=n))}, ep.e)"

    w = t.adherence_window
    span = f"{sql.least}({w}, ep.dot)"
    conds = [f"({span} = 0 OR coalesce(dz.w{w}, 0) * 100 >= {t.adherence_min} * {span})"]
    if t.positive_free_days:
        n = t.positive_free_days
        conds.append(f"(u.last_pos IS NULL OR u.last_pos < {start(n)})")
        if t.needs_one_negative_in_window:
            conds.append(f"({start(n)} >= {d} OR coalesce(u.n{n}, 0) >= 1)")
    if t.min_negative_run:
        conds.append(f"coalesce(u.run, 0) >= {t.min_negative_run}")
    return "(" + " AND ".join(conds) + ")"


def allowed_days(rules_: Rules, day: date, sql: Dialect) -> str:
    """The days allowed, as `rules.decide` rules them: the highest tier whose start day is
    reached and whose criteria all pass, tried from the most days down; 0 when none does."""
    branches = " ".join(
        f"WHEN ep.dot >= {t.from_day} AND {_tier_passes(t, day, sql)} THEN {t.days}"
        for t in sorted(rules_.tiers, key=lambda t: t.days, reverse=True)
    )
    return f"CASE {branches} ELSE 0 END"


def window_counts(
    windows: tuple[int, ...],
    day: date,
    sql: Dialect,
    column: str,
    prefix: str,
    where: str = "",
    counted: str = "*",
) -> str:
    """One `, count(<counted>) FILTER …` per window, named <prefix><N>: the rows (that meet
    `where`) whose `column` is on or after the window's first day. Empty without windows."""
    extra = f"{where} AND " if where else ""
    return "".join(
        f", count({counted}) FILTER (WHERE {extra}{column} >= {sql.date(day - timedelta(days=n))})"
        f" AS {prefix}{n}"
        for n in windows
    )


def dose_counts(rules_: Rules, day: date, sql: Dialect, doses: str, cid: str, on: str) -> str:
    """`dz`: per client, the days with a dose in each adherence window, cut at enrolment.

    `doses` is the dose table, `cid` and `on` its client and date columns; the statement
    defines `ep(cid, e)` before this. Only the longest adherence window is read."""
    windows = rules_.dose_windows
    first, d = sql.date(day - timedelta(days=max(windows))), sql.date(day)
    counts = window_counts(windows, day, sql, f"x.{on}", "w")
    cut = "".join(f", a.w{n} - coalesce(c.w{n}, 0) AS w{n}" for n in windows)
    return f"""dz_all AS (
        SELECT x.{cid} AS cid{counts} FROM {doses} x
        WHERE x.{on} >= {first} AND x.{on} < {d} GROUP BY x.{cid}),
    recent AS (SELECT cid, e FROM ep WHERE e > {first}),
    dz_cut AS (
        SELECT x.{cid} AS cid{counts} FROM {doses} x JOIN recent r ON r.cid = x.{cid}
        WHERE x.{on} >= {first} AND x.{on} < r.e GROUP BY x.{cid}),
    dz AS (SELECT a.cid{cut} FROM dz_all a LEFT JOIN dz_cut c ON c.cid = a.cid)"""


def select_list(rules_: Rules, day: date, sql: Dialect, code: str) -> str:
    """The list's columns, in `row_columns` order."""
    w = "".join(f"coalesce(dz.w{n}, 0) AS w{n}, " for n in rules_.dose_windows)
    n = "".join(f"coalesce(u.n{n}, 0) AS n{n}, " for n in rules_.negative_windows)
    return (
        f"ep.cid AS cid, {code} AS client, ep.e AS enrolled_on, {w}{n}u.last_pos,"
        f" coalesce(u.run, 0) AS run, {allowed_days(rules_, day, sql)} AS allowed_days"
    )


def row_columns(rules_: Rules) -> tuple[str, ...]:
    """The names of a list row's columns, in order."""
    return (
        "cid",
        "client",
        "enrolled_on",
        *(f"w{n}" for n in rules_.dose_windows),
        *(f"n{n}" for n in rules_.negative_windows),
        "last_pos",
        "run",
        "allowed_days",
    )


def as_date(value) -> date | None:
    """A date from any engine (SQLite returns ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def aggregates_of(row, rules_: Rules, admin=None) -> rules.Aggregates:
    """The `rules.Aggregates` of one list row (in `row_columns` order)."""
    dw, nw = rules_.dose_windows, rules_.negative_windows
    _cid, code, enrolled, *rest = row
    k = len(dw)
    return rules.Aggregates(
        code=code,
        enrolled_on=as_date(enrolled),
        doses_in=dict(zip(dw, map(int, rest[:k]), strict=True)),
        negatives_in=dict(zip(nw, map(int, rest[k : k + len(nw)]), strict=True)),
        last_positive=as_date(rest[-3]),
        negative_run=int(rest[-2]),
        admin=admin or rules.AdminFacts(),
    )
