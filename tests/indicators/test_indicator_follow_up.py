"""Lost to follow-up and return to care for March 2026, counted by hand, on the edges of the
30-day rule (29, 30 and 31 days without a dose), in every engine.

Everyone is enrolled on 1 January 2025 and dosed every day from 1 December 2025 unless
said otherwise; February 2026 has 28 days.

    client  doses (daily)                  longest run without a dose    lost in March?
    A       to 14 Feb, from 16 Mar         15 Feb - 15 Mar: 29 days      no
    B       to 13 Feb, from 16 Mar         14 Feb - 15 Mar: 30 days      yes (15 Mar)
    C       to 12 Feb, from 16 Mar         31 days                       yes
    D       to 1 Mar                       2 - 31 Mar: 30 days           yes (31 Mar)
    E       to 2 Mar                       3 - 31 Mar: 29 days           no
    F       enrolled 1 Mar, never dosed    1 - 30 Mar: 30 days           yes (30 Mar)
    G       enrolled 3 Mar, never dosed    (not in treatment on 1 Mar)   -
    H       to 10 Feb, discharged 10 Mar   11 Feb - 9 Mar: 27 days       no
    I       to 5 Feb, discharged 10 Mar    6 Feb - 9 Mar: 32 days        yes (7 Mar)
    J       to 29 Jan, from 5 Mar          30 Jan - 4 Mar                yes; lost on 28 Feb, back
    K       to 28 Jan                      from 29 Jan                   yes; lost on 28 Feb
    L       to 30 Jan, from 1 Mar          31 Jan - 28 Feb: 29 days      no; not lost on 28 Feb
    M       to 10 Jan, discharged 20 Feb   (not in treatment)            -

Lost to follow-up: B C D F I J K of the 11 in treatment on 1 March (all but G and M).
Returned to care: of J and K (lost on 28 February), J.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from indicator_fixtures import client, days, doses
from pandas_engine import PandasFrames, compute_pandas

from pingan.indicators.definitions import Period
from pingan.indicators.engines import DuckEngine, compute_db, export_parquet

MARCH = Period(2026, 3)
IDS = ["lost_to_follow_up_rate", "return_to_care_rate"]
EXPECTED = {
    "lost_to_follow_up_rate": (7, 11, 11, 7),
    "return_to_care_rate": (1, 2, 2, 1),
}


def _dosed(code: str, *ranges: tuple[str, str], enrolled="2025-01-01", discharged=None):
    c = client(code, (enrolled, discharged))
    for first, last in ranges:
        doses(c, days(first, last))


def build() -> None:
    start = "2025-12-01"
    _dosed("A", (start, "2026-02-14"), ("2026-03-16", "2026-03-31"))
    _dosed("B", (start, "2026-02-13"), ("2026-03-16", "2026-03-31"))
    _dosed("C", (start, "2026-02-12"), ("2026-03-16", "2026-03-31"))
    _dosed("D", (start, "2026-03-01"))
    _dosed("E", (start, "2026-03-02"))
    _dosed("F", enrolled="2026-03-01")
    _dosed("G", enrolled="2026-03-03")
    _dosed("H", (start, "2026-02-10"), discharged="2026-03-10")
    _dosed("I", (start, "2026-02-05"), discharged="2026-03-10")
    _dosed("J", (start, "2026-01-29"), ("2026-03-05", "2026-03-31"))
    _dosed("K", (start, "2026-01-28"))
    _dosed("L", (start, "2026-01-30"), ("2026-03-01", "2026-03-31"))
    _dosed("M", (start, "2026-01-10"), discharged="2026-02-20")


def _numbers(results) -> dict:
    return {
        k: (r.numerator, r.denominator, r.people, r.people_numerator) for k, r in results.items()
    }


@pytest.fixture
def edges(db, clock_at):
    clock_at(datetime(2026, 4, 15, 10, 0))
    build()


def test_the_30_day_edges_in_the_centres_database(edges):
    assert _numbers(compute_db(MARCH, IDS).results) == EXPECTED
    r = compute_db(MARCH, IDS).results
    assert r["lost_to_follow_up_rate"].value == pytest.approx(7 / 11)
    assert r["return_to_care_rate"].value == pytest.approx(1 / 2)


def test_the_30_day_edges_in_duckdb_and_pandas(edges, tmp_path: Path):
    export_parquet(tmp_path)
    duck = DuckEngine(tmp_path)
    assert _numbers(duck.compute(MARCH, IDS).results) == EXPECTED
    assert _numbers(duck.compute_sql(MARCH, IDS).results) == EXPECTED
    trend = {str(s.period): _numbers(s.results) for s in duck.trend(MARCH, 3, IDS)}
    assert trend["2026-03"] == EXPECTED
    assert _numbers(compute_pandas(PandasFrames.from_duck(duck), MARCH, IDS).results) == EXPECTED


def test_february_the_month_they_went_missing(edges):
    """In treatment on 1 February: A B C D E H I J K L M (F and G were enrolled later).
    Lost on a day of February: K (30 days on 27 Feb), J (on 28 Feb) and M (11 Jan - 9 Feb,
    still in treatment then); L's run is 29 days on 28 Feb."""
    r = _numbers(compute_db(Period(2026, 2), IDS).results)
    assert r["lost_to_follow_up_rate"] == (3, 11, 11, 3)
