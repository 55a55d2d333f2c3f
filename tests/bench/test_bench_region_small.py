"""The regional dose benchmark at small scale (3 centres x 40 clients x 30 days), checked for
correctness only (never for speed: CI machines differ).

In place, on the test database (SQLite or PostgreSQL): the region loaded, two nurses of
each centre racing for a few of its clients, every other client due today dosed in one list
across centres; then the invariants of docs/architecture.md, Reliability, for every centre.
On PostgreSQL also the benchmark itself: 4 worker processes on a scratch database of the
test server, one centre and then the region."""

import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import region  # noqa: E402


@pytest.mark.django_db(transaction=True)
def test_small_region_doses_each_client_once_from_its_own_centre():
    found = region.measure_in_place("small")
    checks, doubles = found["checks"], found["doubles"]
    spec = region.SCALES["small"]

    assert found["counts"]["centres"] == spec["centres"]
    assert found["centres_due"] == spec["centres"]
    assert found["refused"] == []
    assert checks["double_doses"] == 0
    assert checks["doses_today"] == checks["expected_today"] == found["due"]
    assert checks["doses_without_one_ledger_line"] == 0
    assert checks["centres_with_ledger_ok"] == spec["centres"]
    assert checks["ledger_ok"]
    assert checks["doses_without_audit_entry"] == 0
    assert checks["audit_breaks"] == 0
    assert len(checks["doses_today_by_centre"]) == spec["centres"]
    assert None not in checks["doses_today_by_centre"]  # every dose says where it was given
    assert checks["audit_chains"] >= 1

    # Two nurses of the centre pressed "Confirm" together for each of these clients.
    raced = spec["doubles"] * spec["centres"]
    assert doubles == {
        "attempts": 2 * raced,
        "recorded": raced,
        "refused_already_dosed": raced,
        "errors": 0,
    }

    # Each centre keeps its own stock: every dose is on its centre's ledger.
    assert checks["doses_from_another_centres_stock"] == 0


def _server_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgresql://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}{port}/postgres"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the workers are processes on a PostgreSQL server"
)
def test_small_region_benchmark_with_worker_processes_keeps_every_invariant():
    spec = region.SCALES["small"]
    rows, summary = region.run_pg(_server_url(), spec, timezone.localdate())

    for name in ("centre", "region"):
        phase = summary["phases"][name]
        assert phase["checks"]["problems"] == [], name
        assert phase["checks"]["double_doses"] == 0
        assert phase["figures"]["ok"] > 0
        assert phase["figures"]["errors"] == 0
    assert summary["phases"]["centre"]["centres"] == 1
    assert summary["phases"]["region"]["centres"] == spec["centres"]
    assert [r["measure"] for r in rows][2] == "region / one centre"
