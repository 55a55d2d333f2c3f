"""The dose-recording benchmark at small scale, checked for correctness only (never for
speed: CI machines differ). It loads 200 clients x 60 days into the test database, records
doses through the action and through HTTP, races two nurses for the same clients, and then
every invariant of docs/architecture.md, Reliability must hold."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import dosing  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_small_scale_records_every_dose_once_and_the_ledger_balances():
    rows, summary = dosing.measure_in_place("small")
    checks, doubles = summary["checks"], summary["doubles"]
    spec = dosing.SCALES["small"]

    assert checks["double_doses"] == 0
    assert checks["doses_today"] == checks["expected_today"]
    assert checks["expected_today"] >= spec["measure"] + spec["profile"]
    assert checks["doses_without_one_ledger_line"] == 0
    assert checks["ledger_balance_ml"] == checks["ledger_sum_ml"]
    assert checks["ledger_balance_ml"] >= 0
    assert checks["doses_without_audit_entry"] == 0
    assert checks["audit_breaks"] == 0

    # Two nurses pressed "Confirm" together for each of these clients: one dose each.
    assert doubles["attempts"] == 2 * spec["doubles"]
    assert doubles["recorded"] == spec["doubles"]
    assert doubles["refused_already_dosed"] == spec["doubles"]
    assert doubles["errors"] == 0

    measures = {row["measure"] for row in rows}
    assert "dosing.actions.record_dose" in measures
    assert "POST dosing:dose (test client, nurse)" in measures
    dosing.verdict(summary)  # raises on any broken invariant
