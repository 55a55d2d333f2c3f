"""One definition of an opioid-positive sample (`labs.rules`), every form of it agreeing.

Each combination of results a sample can carry (opiates, morphine, methadone and ketamine
each positive, negative or untested) is judged by `labs.rules.opioid_positive` and, from
the same records, by every other form: the database trigger that keeps
`UrineSample.opioid`, the indicators' SQL on this database and in DuckDB over the
database's Parquet export, the take-home engine's `opioid_samples` and its DuckDB engine
over import-format Parquet."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection

from pingan.indicators import sql
from pingan.indicators.definitions import Period
from pingan.indicators.engines import DuckEngine, dialect_of, export_parquet, with_db_sources
from pingan.labs import opioid_sql, rules
from pingan.labs.models import UrineResult, UrineSample
from pingan.registry.models import Client, Episode
from pingan.takehome import duck
from pingan.takehome import rules as takehome_rules

pytestmark = pytest.mark.django_db

FIRST = date(2026, 1, 1)
ANALYTES = ("opiates", "morphine", "methadone", "ketamine")
# Every sample: {analyte: result} for the analytes it was tested for (81 - 1 empty ones).
COMBINATIONS = [
    {a: r for a, r in zip(ANALYTES, combo, strict=True) if r}
    for combo in itertools.product(("", "positive", "negative"), repeat=len(ANALYTES))
    if any(combo)
]
OUTCOME = {True: 1, False: 0, None: None}


@pytest.fixture
def samples() -> dict[int, tuple[date, dict[str, str]]]:
    """One client, one sample a day: sample id -> (day, results)."""
    client = Client.objects.create(code="PA-OPI", alias="A", sex="M", birth_year=1980)
    Episode.objects.create(client=client, enrolled_on=FIRST - timedelta(days=10))
    made = {}
    for n, results in enumerate(COMBINATIONS):
        day = FIRST + timedelta(days=n)
        sample = UrineSample.objects.create(client=client, collected_on=day)
        UrineResult.objects.bulk_create(
            UrineResult(sample=sample, analyte=a, result=r) for a, r in results.items()
        )
        made[sample.pk] = (day, results)
    return made


def expected(samples) -> dict[int, int | None]:
    return {pk: OUTCOME[rules.opioid_positive(res).positive] for pk, (_, res) in samples.items()}


def test_the_definition_is_opiates_or_morphine():
    assert rules.OPIOID_ANALYTES == ("opiates", "morphine")
    assert opioid_sql.is_opioid("t.analyte") == "t.analyte IN ('opiates', 'morphine')"
    assert opioid_sql.sql_strings(["it's"]) == "'it''s'"


def test_the_database_trigger_agrees(samples):
    stored = dict(UrineSample.objects.values_list("pk", "opioid"))
    assert stored == expected(samples)


def test_the_take_home_engine_agrees(samples):
    rows = [(pk, day, a, r) for pk, (day, res) in samples.items() for a, r in res.items()]
    judged = {day: OUTCOME[positive] for day, positive in takehome_rules.opioid_samples(rows)}
    want = {samples[pk][0]: v for pk, v in expected(samples).items() if v is not None}
    assert judged == want


MONTHS = [Period(2026, 1), Period(2026, 2), Period(2026, 3)]  # the 80 days of samples


def _indicator_rows(run, x) -> dict[int, int]:
    found = {}
    for p in MONTHS:
        query = sql._with(s=sql.samples(x, p)) + "SELECT sample, pos FROM s"
        found.update({int(sample): pos for sample, pos in run(query)})
    return found


def test_the_indicator_sql_agrees_on_this_database(samples):
    x = dialect_of(connection)

    def run(query):
        with connection.cursor() as cursor:
            cursor.execute(with_db_sources(x, query))
            return cursor.fetchall()

    want = {pk: v for pk, v in expected(samples).items() if v is not None}
    assert _indicator_rows(run, x) == want


def test_the_indicator_sql_agrees_in_duckdb(samples, tmp_path):
    export_parquet(tmp_path)
    engine = DuckEngine(tmp_path)
    try:
        found = _indicator_rows(lambda q: engine.con.execute(q).fetchall(), sql.DUCKDB)
    finally:
        engine.close()
    assert found == {pk: v for pk, v in expected(samples).items() if v is not None}


def test_the_take_home_duckdb_engine_agrees(samples, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    urine = [(day, a, r) for day, res in samples.values() for a, r in res.items()]
    tables = {
        "clients": {"code": ["PA-OPI"], "enrolled_on": [FIRST - timedelta(days=10)]},
        "doses": {"client_code": ["PA-OPI"], "date": [FIRST]},
        "urine": {
            "client_code": ["PA-OPI"] * len(urine),
            "date": [u[0] for u in urine],
            "analyte": [u[1] for u in urine],
            "result": [u[2] for u in urine],
        },
    }
    for name, columns in tables.items():
        pq.write_table(pa.table(columns), tmp_path / f"{name}.parquet")
    con = duck.connect(tmp_path)
    found = dict(con.execute("SELECT day, pos::INTEGER FROM samples").fetchall())
    con.close()
    want = {samples[pk][0]: v for pk, v in expected(samples).items() if v is not None}
    assert found == want
