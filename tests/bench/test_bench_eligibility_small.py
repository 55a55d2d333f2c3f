"""The nightly-eligibility benchmark at small scale, checked for correctness only (never for
speed: CI machines differ). DuckDB over Parquet and the database's set-based list must allow
the same days to the same clients, and every row of the report must be there."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import eligibility  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_small_population_gets_the_same_list_from_every_engine():
    rows = eligibility.run("small", clients=400, sample=40, in_place=True)
    by_engine = {row["engine"].split(" (")[0]: row for row in rows}
    duck = by_engine["duckdb set-based list → Arrow"]
    vendor = next(r for r in rows if r["engine"].endswith("set-based list (days allowed in SQL)"))
    assert duck["clients"] == vendor["clients"] == 400
    assert vendor["differ_from_duckdb"] == 0
    assert vendor["allowed"] == duck["allowed"] > 0
    per_client = next(r for r in rows if "per-client ORM" in r["engine"])
    assert per_client["ratio_to_set_based"].endswith("x")
