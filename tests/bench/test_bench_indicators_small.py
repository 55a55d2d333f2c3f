"""The indicator benchmark at small scale (5,000 clients), checked for correctness only
(never for speed: CI machines differ): the 12-month trend computed in one pass equals the
twelve months computed one by one, and the pandas re-statement gives the same numbers as
DuckDB."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import indicators  # noqa: E402

pytestmark = pytest.mark.django_db


def test_small_benchmark_engines_and_one_pass_trend_agree(tmp_path, monkeypatch):
    monkeypatch.setattr(indicators, "CACHE_ROOT", tmp_path)
    rows = indicators.run("small", runs=1)
    by_measure = {(r["measure"], r["engine"]): r for r in rows}
    assert by_measure["12 months one by one", "duckdb"]["note"].endswith("True")
    assert by_measure["monthly set", "pandas"]["note"].endswith("same numbers: True")
    assert float(by_measure["12-month trend", "duckdb"]["median_s"]) > 0
