"""A client whose take-home is suspended is never `ready` on the nightly list, whatever the
record allows, and the per-client engine and the database's list agree on it (the DuckDB
list has no administrative record at all: nobody is ready there)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.takehome import actions, nightly, queries

pytestmark = pytest.mark.django_db


def _both(day):
    rules_ = queries.rules_for(day)
    per_client = [d.as_dict() for d in queries.evaluate_per_client(day, rules_)]
    listed = [d.as_dict() for d in nightly.eligibility(day, rules_)]
    return per_client, listed


def test_a_suspended_client_is_not_ready_and_the_engines_agree(
    stable, users, monday, ready_request
):
    ready_request(stable, 4)  # the police record check passed today
    today = clock.today()
    per_client, listed = _both(today)
    assert per_client == listed
    assert [(d["allowed_days"], d["ready"]) for d in listed] == [(4, True)]

    held = actions.suspend_takehome(
        stable, "diversion suspected", today + timedelta(7), users["clinician"]
    )
    per_client, listed = _both(today)
    assert per_client == listed
    (row,) = listed
    assert (row["allowed_days"], row["ready"]) == (4, False)  # the record still earns 4
    failed = [c for c in row["checks"] if c["passed"] is False]
    assert [c["name"] for c in failed] == ["takehome_suspended"]
    assert nightly.nightly_list(today).decisions(only_allowed=True)[0].ready is False

    # The list of a day before the suspension does not show it; lifted, ready again.
    assert all(
        c["name"] != "takehome_suspended" for c in _both(today - timedelta(days=1))[1][0]["checks"]
    )
    actions.lift_suspension(held, "reviewed with the client", users["clinician"])
    per_client, listed = _both(today)
    assert per_client == listed and listed[0]["ready"] is True
    assert all(c["name"] != "takehome_suspended" for c in listed[0]["checks"])
