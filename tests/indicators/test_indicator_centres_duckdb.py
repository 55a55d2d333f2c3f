"""Indicators of one centre on the DuckDB engine: the region's Parquet export carries the
centre code on every row, and DuckDB over it gives, for each of three centres drawn at
random, the numerators and denominators the database gives for that centre; without a
centre, the pooled region's."""

from __future__ import annotations

import json
import random
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.functions import Substr
from test_indicator_centres import CODES, MARCH, _figures, _random_region

from pingan.indicators.definitions import CORE_IDS, Period
from pingan.indicators.engines import DuckEngine, UnknownCentre, compute_db, export_parquet
from pingan.registry.models import Client

pytestmark = pytest.mark.django_db

BOTH = {"dose_months", "urine_months", "test_windows"}


def _core(result_set) -> dict[str, tuple]:
    return {i: f for i, f in _figures(result_set).items() if i in CORE_IDS}


def _assert_duckdb_gives_the_databases_figures(folder: Path, centres) -> None:
    for facts_files in (True, False):
        pooled = DuckEngine(folder, facts_files=facts_files)
        assert pooled.facts_files == (BOTH if facts_files else set())
        assert pooled.centres() == sorted(centres)
        for period in (Period(2026, 2), MARCH):
            region = _core(compute_db(period, CORE_IDS))
            assert _core(pooled.compute(period, CORE_IDS)) == region, period
            assert _core(pooled.compute_sql(period, CORE_IDS)) == region, period
            for code, centre in centres.items():
                one = DuckEngine(folder, facts_files=facts_files, centre=code)
                mine = _core(compute_db(period, CORE_IDS, centre_id=centre.pk))
                assert _core(one.compute(period, CORE_IDS)) == mine, (code, period)
                assert _core(one.compute_sql(period, CORE_IDS)) == mine, (code, period)
                one.close()
        pooled.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_centre_on_duckdb_is_the_centre_on_the_database(users, clock_at, tmp_path, seed):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(seed), users)
    export_parquet(tmp_path)
    assert compute_db(MARCH, ["active_clients"]).results["active_clients"].numerator > 0
    _assert_duckdb_gives_the_databases_figures(tmp_path, centres)


def test_clients_of_two_centres_may_share_a_code(users, clock_at, tmp_path):
    """Each centre numbers its own clients: CA-001 and CB-001 both become 001, and DuckDB
    still tells them apart by the centre their rows carry."""
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(11), users)
    Client.objects.update(code=Substr("code", 4))
    assert Client.objects.filter(code="000").count() == len(CODES)
    export_parquet(tmp_path)
    _assert_duckdb_gives_the_databases_figures(tmp_path, centres)


def test_facts_files_without_the_centre_are_rewritten(users, clock_at, tmp_path):
    """A facts file written before the centre was (no centre_code column) is not read,
    even with its fingerprint intact, and writing the stale files replaces it."""
    import pyarrow.parquet as pq

    from pingan.indicators.engines import write_facts_files

    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(12), users)
    export_parquet(tmp_path)
    path = tmp_path / "dose_months.parquet"
    old = pq.read_table(path).drop(["centre_code"])
    pq.write_table(old.replace_schema_metadata(pq.read_schema(path).metadata), path)
    assert DuckEngine(tmp_path).facts_files == {"urine_months", "test_windows"}
    mine = _core(compute_db(MARCH, CORE_IDS, centre_id=centres["CA"].pk))
    assert _core(DuckEngine(tmp_path, centre="CA").compute(MARCH, CORE_IDS)) == mine
    assert set(write_facts_files(tmp_path, if_stale=True)) == {"dose_months"}
    assert DuckEngine(tmp_path).facts_files == BOTH
    assert _core(DuckEngine(tmp_path, centre="CA").compute(MARCH, CORE_IDS)) == mine


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)["indicators"]


def test_the_command_takes_a_centre_on_duckdb(users, clock_at, capsys, tmp_path):
    clock_at(datetime(2026, 4, 15, 10, 0))
    centres = _random_region(random.Random(7), users)
    mine = compute_db(MARCH, centre_id=centres["CB"].pk).results
    args = ("indicators", "--period", "2026-03", "--format", "json", "--no-progress")
    call_command(*args, "--engine", "duckdb", "--centre", "cb")
    shown = _json(capsys)
    for ind_id in ("active_clients", "adherence", "opiate_positive_rate", "police_referrals"):
        assert shown[ind_id]["numerator"] == mine[ind_id].numerator, ind_id
        assert shown[ind_id]["denominator"] == mine[ind_id].denominator, ind_id
    call_command("indicators", "--export-parquet", str(tmp_path / "export"))
    capsys.readouterr()
    call_command(
        *args, "--engine", "duckdb", "--parquet", str(tmp_path / "export"), "--centre", "CB"
    )
    shown = _json(capsys)
    assert shown["adherence"]["numerator"] == mine["adherence"].numerator
    with pytest.raises(CommandError, match="XX"):
        call_command(*args, "--engine", "duckdb", "--centre", "XX")
    with pytest.raises(CommandError, match="XX"):
        call_command(
            *args, "--engine", "duckdb", "--parquet", str(tmp_path / "export"), "--centre", "XX"
        )


def test_files_without_centres_refuse_a_centre(tmp_path):
    from pingan.synth.generator import CentreSpec
    from pingan.synth.writers import write_centre

    write_centre(
        CentreSpec(clients=5, days=40, start=date(2026, 1, 1), seed=3),
        tmp_path,
        ("parquet",),
        progress=False,
    )
    assert DuckEngine(tmp_path).centres() == []
    with pytest.raises(UnknownCentre):
        DuckEngine(tmp_path, centre="CA")
    with pytest.raises(CommandError):
        call_command(
            "indicators", "--engine", "duckdb", "--parquet", str(tmp_path), "--centre", "CA"
        )
