"""One definition, several engines, identical numbers: the centre's database (SQLite or
PostgreSQL), DuckDB over the synthetic Parquet files, DuckDB over the database's own Parquet
export, and the independent pandas re-statement, all on the same synthetic centre."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from unittest.mock import ANY

import pytest
from pandas_engine import PandasFrames, compute_pandas

from pingan.indicators.definitions import CORE_IDS, Period
from pingan.indicators.duckdb_facts import urine_month_rows
from pingan.indicators.engines import DuckEngine, compute_db, export_parquet, write_facts_files
from pingan.synth.demo_records import apply_reenrolments
from pingan.synth.generator import CentreSpec
from pingan.synth.writers import write_centre

SPEC = CentreSpec(clients=70, days=420, start=date(2025, 1, 1), seed=11)
PERIODS = [Period(2026, 1), Period(2026, 2)]


@pytest.fixture
def centre(db, tmp_path: Path, clock_at) -> Path:
    from pingan.imports.loader import load_directory

    # The synthetic history ends on SPEC's last day; the import refuses future-dated rows.
    clock_at(datetime.combine(SPEC.start + timedelta(days=SPEC.days + 30), datetime.min.time()))

    out = tmp_path / "synth"
    write_centre(SPEC, out, ("csv", "parquet"), progress=False)
    _add_hepatitis_b_and_syphilis(out)
    load_directory(out, progress=False)
    apply_reenrolments(out)
    return out


def _add_hepatitis_b_and_syphilis(folder: Path) -> None:
    """The generator writes HIV, HCV and TB tests only: add hepatitis B beside every HCV test
    and syphilis the day before every other client's HIV test, to the CSV files the database
    imports and the Parquet files DuckDB reads alike."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "tests.parquet")
    extra = []
    for n, row in enumerate(table.to_pylist()):
        if row["test"] == "hcv":
            extra.append({**row, "test": "hbv", "result": "negative" if n % 5 else "positive"})
        elif row["test"] == "hiv" and n % 2:
            extra.append({**row, "test": "syphilis", "date": row["date"] - timedelta(days=1)})
    assert extra
    with (folder / "tests.csv").open("a", encoding="utf-8") as csv:
        csv.writelines(
            f"{r['client_code']},{r['date'].isoformat()},{r['test']},{r['result']}\n" for r in extra
        )
    more = pa.Table.from_pylist(extra, schema=table.schema)
    pq.write_table(pa.concat_tables([table, more]), folder / "tests.parquet")


def _numbers(results) -> dict:
    return {
        k: (r.numerator, r.denominator, r.people, r.people_numerator) for k, r in results.items()
    }


def test_engines_agree_on_a_synthetic_centre(centre: Path, tmp_path: Path):
    duck = DuckEngine(centre)
    frames = PandasFrames.from_duck(duck)
    exported = tmp_path / "export"
    export_parquet(exported)
    duck_export = DuckEngine(exported)
    assert duck_export.facts_files == BOTH
    for period in PERIODS:
        db = _numbers(compute_db(period, CORE_IDS).results)
        assert db["active_clients"][0] > 20  # the dataset is not trivially empty
        assert db["takehome_clients"][0] > 0
        assert db["opiate_positive_rate"][1] > 0
        assert db["hbv_tested_12m"][0] > 0 and db["syphilis_tested_12m"][0] > 0
        assert db["lost_to_follow_up_rate"][1] > 0
        assert _numbers(duck.compute(period, CORE_IDS).results) == db, period
        assert _numbers(duck_export.compute(period, CORE_IDS).results) == db, period
        assert _numbers(compute_pandas(frames, period).results) == db, period
    for got in duck.trend(PERIODS[-1], months=len(PERIODS), ids=CORE_IDS):
        assert _numbers(got.results) == _numbers(compute_db(got.period, CORE_IDS).results)


def _awkward_centre(folder: Path, seed: int) -> None:
    """Import-format Parquet with what a real register holds now and then: re-enrolments,
    a discharge on the enrolment day, doses outside treatment, months of 28 to 31 days,
    several samples on one day, results other than positive/negative."""
    import random

    import duckdb
    import pandas as pd

    rng = random.Random(seed)
    start = date(2025, 1, 1)
    clients, discharges, reenrol, doses, urine, tests = [], [], [], [], [], []
    for code in range(60):
        enrolled = start + timedelta(days=rng.randrange(-40, 330))
        clients.append((code, enrolled))
        end = None
        if rng.random() < 0.4:
            end = enrolled + timedelta(days=rng.choice([0, 1, 29, 31, rng.randrange(2, 200)]))
            discharges.append((code, end))
            if rng.random() < 0.5:
                back = end + timedelta(days=rng.randrange(0, 60))
                reenrol.append((code, end, back))
        # A break without doses, sometimes just under or over the follow-up threshold.
        away = rng.randrange(0, 420)
        away = range(away, away + rng.choice([0, 0, 28, 29, 30, 31, 45, 90]))
        for n in range(420):
            day = start + timedelta(days=n)
            if n not in away and rng.random() < (0.6 if code % 3 else 0.95):
                kind = "takehome" if rng.random() < 0.15 else "clinic"
                doses.append((code, day, rng.randrange(20, 130), kind))
            if rng.random() < 0.05:
                for k in range(rng.choice([1, 1, 2])):
                    sample = f"{code}-{n}-{k}"
                    tested = ("opiates", "morphine", "methadone", "eddp")
                    for analyte in [a for a in tested if rng.random() < 0.7] or tested[:1]:
                        result = rng.choice(["positive", "negative", "invalid"])
                        urine.append((code, sample, day, analyte, result))
        for test in ("hiv", "hcv", "hbv", "syphilis", "tb"):
            for _ in range(rng.randrange(0, 3)):
                day = start + timedelta(days=rng.randrange(-200, 420))
                tests.append((code, day, test, rng.choice(["positive", "negative"])))
        # The edges of the 365-day windows: the month's end and 364 / 365 days before it.
        month_end = Period(2025, 6).shift(code % 9).end
        for test, back in (
            ("hiv", 364),
            ("hcv", 365),
            ("hbv", 364 if code % 2 else 365),
            ("syphilis", 365 if code % 2 else 364),
            ("tb", 0),
        ):
            tests.append((code, month_end - timedelta(days=back), test, "negative"))
    con = duckdb.connect()
    for name, columns, rows in (
        ("clients", "code INTEGER, enrolled_on DATE", clients),
        ("discharges", "client_code INTEGER, date DATE", discharges),
        ("reenrolments", "client_code INTEGER, discharged_on DATE, reenrolled_on DATE", reenrol),
        ("doses", "client_code INTEGER, date DATE, mg SMALLINT, kind VARCHAR", doses),
        (
            "urine",
            "client_code INTEGER, sample VARCHAR, date DATE, analyte VARCHAR, result VARCHAR",
            urine,
        ),
        ("tests", "client_code INTEGER, date DATE, test VARCHAR, result VARCHAR", tests),
    ):
        con.execute(f"CREATE TABLE {name} ({columns})")
        if rows:
            frame = pd.DataFrame(rows)  # noqa: F841 (read by name in the query)
            con.execute(f"INSERT INTO {name} SELECT * FROM frame")
        con.execute(f"COPY {name} TO '{folder / name}.parquet' (FORMAT parquet)")
    con.close()


@pytest.mark.parametrize("seed,files", [(1, False), (2, False), (1, True), (2, True)])
def test_duckdb_facts_match_the_sql_definitions(tmp_path: Path, seed: int, files: bool):
    """The per-client-month formulation DuckDB runs gives the numbers of sql.py as written,
    month by month and as a trend, on awkward data, from the records alone and with the
    facts files written beside them."""
    _awkward_centre(tmp_path, seed)
    if files:
        write_facts_files(tmp_path)
    duck = DuckEngine(tmp_path)
    assert duck.facts_files == (BOTH if files else frozenset())
    last = Period(2026, 2)
    trend = duck.trend(last, months=8, ids=CORE_IDS)
    for got in trend:
        reference = _numbers(duck.compute_sql(got.period, CORE_IDS).results)
        assert _numbers(got.results) == reference, got.period
        duck.reset()
        assert _numbers(duck.compute(got.period, CORE_IDS).results) == reference, got.period
    assert any(r.results["retention_3m"].denominator for r in trend)
    assert any(r.results["takehome_adherence"].denominator for r in trend)
    assert any(r.results["takehome_methadone_negative_rate"].numerator for r in trend)
    assert any(r.results["lost_to_follow_up_rate"].numerator for r in trend)
    assert any(r.results["return_to_care_rate"].numerator for r in trend)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_trend_in_one_pass_equals_its_months_one_by_one(tmp_path: Path, seed: int):
    """The trend computes a year's facts at once; every indicator of every month must be
    what the same engine gives for that month alone."""
    _awkward_centre(tmp_path, seed)
    duck = DuckEngine(tmp_path)
    trend = duck.trend(Period(2026, 2), months=12, ids=CORE_IDS)
    assert [str(t.period) for t in trend][0] == "2025-03"
    for got in trend:
        duck.reset()
        alone = duck.compute(got.period, CORE_IDS)
        assert _numbers(got.results) == _numbers(alone.results), got.period
        assert set(got.results) == set(CORE_IDS)
    assert any(r.results["lost_to_follow_up_rate"].numerator for r in trend)
    assert any(r.results["return_to_care_rate"].numerator for r in trend)


BOTH = frozenset({"dose_months", "urine_months", "test_windows"})


def test_the_facts_files_stand_for_the_records_they_were_made_from(tmp_path: Path, monkeypatch):
    """dose_months.parquet, urine_months.parquet (a row per client and month) and
    test_windows.parquet (a row per client and 60-month block), written once beside the
    records, give the numbers of computing them from the records; once a record file is
    rewritten its derived file no longer stands for it."""
    import duckdb

    _awkward_centre(tmp_path, 5)
    grouped = DuckEngine(tmp_path)
    assert not grouped.facts_files
    last = Period(2026, 2)
    expected = [_numbers(s.results) for s in grouped.trend(last, months=12, ids=CORE_IDS)]
    written = write_facts_files(tmp_path)
    assert written["urine_months"] > 0 and written["dose_months"] > 0
    assert write_facts_files(tmp_path, if_stale=True) == {}
    from_file = DuckEngine(tmp_path)
    assert from_file.facts_files == BOTH
    assert [_numbers(s.results) for s in from_file.trend(last, 12, CORE_IDS)] == expected
    # Across two blocks of test_windows (they start in January 2025): tests of 2024 count
    # in 2025's months from the earlier block's row and the later one's.
    across = Period(2025, 6)
    assert [_numbers(s.results) for s in from_file.trend(across, 12, CORE_IDS)] == [
        _numbers(s.results) for s in grouped.trend(across, 12, CORE_IDS)
    ]
    for period in (last, Period(2025, 7)):
        reference = _numbers(from_file.compute_sql(period, CORE_IDS).results)
        from_file.reset()
        assert _numbers(from_file.compute(period, CORE_IDS).results) == reference

    # A positive opiate sample added to the results after the file was written.
    urine = str(tmp_path / "urine.parquet")
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE u AS SELECT * FROM '{urine}' UNION ALL "
        "SELECT 1, 'late', DATE '2026-02-10', 'opiates', 'positive'"
    )
    con.execute(f"COPY u TO '{urine}' (FORMAT parquet)")
    con.close()
    rewritten = DuckEngine(tmp_path)
    assert rewritten.facts_files == {"dose_months", "test_windows"}
    reference = _numbers(rewritten.compute_sql(last, CORE_IDS).results)
    assert reference["opiate_positive_rate"] != expected[-1]["opiate_positive_rate"]
    rewritten.reset()
    assert _numbers(rewritten.compute(last, CORE_IDS).results) == reference

    # Files made by other definitions (here: what a urine month counts) are not read.
    from pingan.indicators import engines

    assert write_facts_files(tmp_path, if_stale=True) == {"urine_months": ANY}
    assert DuckEngine(tmp_path).facts_files == BOTH

    # An HIV test added after the file was written: a client counts as tested from then.
    tests = str(tmp_path / "tests.parquet")
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM '{tests}' UNION ALL "
        "SELECT code, DATE '2026-02-03', 'hiv', 'negative' FROM range(60) r(code)"
    )
    con.execute(f"COPY t TO '{tests}' (FORMAT parquet)")
    con.close()
    late = DuckEngine(tmp_path)
    assert late.facts_files == {"dose_months", "urine_months"}
    reference = _numbers(late.compute_sql(last, CORE_IDS).results)
    assert reference["hiv_tested_12m"] != expected[-1]["hiv_tested_12m"]
    late.reset()
    assert _numbers(late.compute(last, CORE_IDS).results) == reference
    assert write_facts_files(tmp_path, if_stale=True) == {"test_windows": ANY}
    assert _numbers(DuckEngine(tmp_path).compute(last, CORE_IDS).results) == reference

    def other_counts(usample: str) -> str:
        return urine_month_rows(usample).replace("COUNT(*)", "COUNT(DISTINCT day)")

    monkeypatch.setattr(engines, "urine_month_rows", other_counts)
    assert DuckEngine(tmp_path).facts_files == {"dose_months", "test_windows"}


def test_duckdb_marks_what_parquet_cannot_hold(tmp_path: Path):
    write_centre(SPEC, tmp_path, ("parquet",), progress=False)
    result = DuckEngine(tmp_path).compute(PERIODS[0], ["police_referrals"]).results
    assert result["police_referrals"].value is None
    assert result["police_referrals"].note


def test_every_drilldown_lists_exactly_the_people_behind_its_figure(centre: Path):
    """The drill-down and the figure share their SQL pieces: the counted rows are the
    people in the numerator and all rows the people in the denominator."""
    from pingan.indicators.drilldown import DRILL, drill

    period = PERIODS[-1]
    results = compute_db(period, CORE_IDS).results
    checked = 0
    for ind_id in sorted(set(DRILL) & set(results)):
        r = results[ind_id]
        rows = drill(ind_id, period)
        if r.people is not None and r.people_numerator is not None:
            assert len({row.client_id for row in rows}) == r.people, ind_id
            counted = {row.client_id for row in rows if row.counted}
            assert len(counted) == r.people_numerator, ind_id
            checked += 1
    assert checked >= 10
    assert results["retention_3m"].denominator  # retention is among them, not empty
