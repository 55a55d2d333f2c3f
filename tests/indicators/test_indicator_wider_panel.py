"""`hbv_tested_12m` and `syphilis_tested_12m` at the edges of their window, in every engine.

The window is the 365 days ending on the month's last day: for March 2026, 1 April 2025
(364 days before 31 March, the window's first day) up to 31 March 2026. A test 365 days
before the last day (31 March 2025, what would be the 366th day) is outside, and so is one
after it. Every engine gives the same numbers: the centre's database (SQLite or
PostgreSQL), DuckDB's facts and its run of sql.py over the database's Parquet export, and
the pandas re-statement, for the month and in a trend across the month boundary."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from indicator_fixtures import client, doses
from indicator_fixtures import test_ as record_test
from pandas_engine import PandasFrames, compute_pandas

from pingan.indicators.definitions import BY_ID, Period
from pingan.indicators.engines import DuckEngine, compute_db, export_parquet

pytestmark = pytest.mark.django_db

MARCH = Period(2026, 3)
LAST = MARCH.end
NEW = {"hbv_tested_12m": "hbv", "syphilis_tested_12m": "syphilis"}
# days before the month's last day -> counted in March
EDGES = [(0, True), (364, True), (365, False), (-1, False)]


def _active(code: str):
    """A client in treatment since 2025, dosed on the 15th of February, March and April."""
    c = client(code, ("2025-01-01", None))
    doses(c, [date(2026, 2, 15), date(2026, 3, 15), date(2026, 4, 15)])
    return c


def every_engine(tmp_path: Path, period: Period, ids) -> dict[str, dict]:
    """(numerator, denominator, people, people_numerator) per engine and indicator."""
    export_parquet(tmp_path / "export")
    duck = DuckEngine(tmp_path / "export")
    try:
        found = {
            "database": compute_db(period, ids),
            "duckdb": duck.compute(period, ids),
            "duckdb_sql": duck.compute_sql(period, ids),
            "pandas": compute_pandas(PandasFrames.from_duck(duck), period, ids),
        }
    finally:
        duck.close()
    return {
        engine: {
            k: (r.numerator, r.denominator, r.people, r.people_numerator)
            for k, r in got.results.items()
        }
        for engine, got in found.items()
    }


def test_the_two_indicators_are_defined_like_the_other_tests():
    for ind_id in NEW:
        ind, hcv = BY_ID[ind_id], BY_ID["hcv_tested_12m"]
        assert (ind.kind, ind.section, ind.unit, ind.source, ind.drilldown) == (
            hcv.kind,
            hcv.section,
            hcv.unit,
            hcv.source,
            hcv.drilldown,
        )
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(BY_ID["hbv_tested_12m"].label) == "乙肝检测率（12个月）"
        assert str(BY_ID["syphilis_tested_12m"].label) == "梅毒检测率（12个月）"
        assert "梅毒" in str(BY_ID["syphilis_tested_12m"].description)


@pytest.mark.parametrize("ind_id", sorted(NEW))
@pytest.mark.parametrize("days_before,counted", EDGES)
def test_the_window_edges_in_every_engine(tmp_path, ind_id, days_before, counted):
    tested = _active("T1")
    _active("T2")  # active, never tested: in the denominator only
    record_test(tested, (LAST - timedelta(days=days_before)).isoformat(), NEW[ind_id], "negative")
    n = int(counted)
    for engine, numbers in every_engine(tmp_path, MARCH, list(NEW)).items():
        assert numbers[ind_id] == (n, 2, 2, n), (engine, days_before)
        other = next(i for i in NEW if i != ind_id)
        assert numbers[other] == (0, 2, 2, 0), engine  # each counts only its own test


def test_a_test_on_the_windows_first_day_leaves_it_at_the_months_end(tmp_path):
    """A test on 1 April 2025 counts for every month up to March 2026 and not for April,
    in the trend as in a single month."""
    tested = _active("T1")
    record_test(tested, "2025-04-01", "hbv", "positive")
    record_test(tested, "2025-05-01", "syphilis", "negative")
    want = {
        Period(2026, 2): {"hbv_tested_12m": 1, "syphilis_tested_12m": 1},
        Period(2026, 3): {"hbv_tested_12m": 1, "syphilis_tested_12m": 1},
        Period(2026, 4): {"hbv_tested_12m": 0, "syphilis_tested_12m": 1},
    }
    export_parquet(tmp_path / "export")
    duck = DuckEngine(tmp_path / "export")
    try:
        trend = {got.period: got for got in duck.trend(Period(2026, 4), months=3, ids=list(NEW))}
    finally:
        duck.close()
    for period, counts in want.items():
        db = compute_db(period, list(NEW)).results
        for ind_id, n in counts.items():
            assert db[ind_id].numerator == n and db[ind_id].denominator == 1, (period, ind_id)
            assert trend[period].results[ind_id].numerator == n, (period, ind_id)


def test_other_tests_and_inactive_clients_do_not_count(tmp_path):
    active = _active("T1")
    for test in ("hiv", "hcv", "tb"):
        record_test(active, "2026-03-01", test, "positive")
    gone = client("T9", ("2025-01-01", "2026-01-31"))  # not dosed in March
    record_test(gone, "2026-01-10", "hbv", "negative")
    record_test(gone, "2026-01-10", "syphilis", "negative")
    for engine, numbers in every_engine(tmp_path, MARCH, list(NEW)).items():
        for ind_id in NEW:
            assert numbers[ind_id] == (0, 1, 1, 0), (engine, ind_id)
