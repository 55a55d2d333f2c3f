"""Round trips of one observed dose (docs/performance.md). Every dose of a centre passes through two
locks held until commit, the stock product row and the audit chain's head, so the statements
from the first of them to the commit decide how many doses a second the centre can record.
The counts are what `actions.record_dose` sends; a change that adds one should say why."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from dosing_factories import make_client, stocked

from pingan.dosing import actions
from pingan.dosing.models import Product, StockEntry

pytestmark = pytest.mark.django_db

# The test runs inside a transaction, so the action's own BEGIN and COMMIT show up as a
# SAVEPOINT and its RELEASE; BEGIN/COMMIT are counted the same way below.
EXPECTED = {
    # BEGIN, client lock, facts, dose INSERT … ON CONFLICT, ledger (balance + line),
    # audit link (head + entry), COMMIT
    "postgresql": 7,
    # BEGIN, facts, dose INSERT, balance read, balance write, ledger line, head read, entry,
    # head write, COMMIT (SQLite's write transaction already excludes every other writer)
    "sqlite": 10,
}


def _lock_statements(sql: list[str]) -> int:
    """Statements from the product lock (the ledger statement) to the commit, inclusive."""
    first = next(
        i
        for i, q in enumerate(sql)
        if ("dosing_product" in q and "UPDATE" in q) or q.startswith("EXECUTE pa_stock_append_")
    )
    return len(sql) - first


def test_round_trips_per_dose(users):
    product = stocked(1000, users["manager"])
    client = make_client("PA-R001", users["clinician"])
    assert actions.record_dose(make_client("PA-R002", users["clinician"]), users["nurse"]).ok

    # Without a request's actor, the nurse's role is looked up first, before any lock.
    with CaptureQueriesContext(connection) as captured:
        assert actions.record_dose(client, users["nurse"]).ok

    sql = [q["sql"] for q in captured.captured_queries]
    assert "auth_group" in sql[0] and "SAVEPOINT" in sql[1]
    sql = sql[1:]
    assert len(sql) == EXPECTED[connection.vendor], "\n".join(s[:100] for s in sql)
    if connection.vendor == "postgresql":
        # ledger statement, audit link, COMMIT: was nine before (lock, read, insert, two
        # savepoint releases, head lock, entry insert, head update, COMMIT)
        assert _lock_statements(sql) == 3
        # Each statement between BEGIN and COMMIT was prepared by the first dose on this
        # connection and is only executed now (core.prepared): none is planned again.
        assert all(q.startswith("EXECUTE pa_") for q in sql[1:-1]), sql
    product.refresh_from_db()
    last = StockEntry.objects.filter(product=product).order_by("-pk").first()
    assert product.balance_ml == last.balance_ml == 880


def test_balance_on_the_product_follows_every_kind_of_line(users):
    product = stocked(500, users["manager"])
    actions.record_waste(product, "20", "bottle broken", users["manager"])
    actions.correct(product, "-5.5", "count", users["manager"])
    assert actions.record_dose(make_client("PA-R003", users["clinician"]), users["nurse"]).ok
    product = Product.objects.get(pk=product.pk)
    lines = list(StockEntry.objects.filter(product=product).order_by("pk"))
    assert product.balance_ml == lines[-1].balance_ml == sum(e.ml for e in lines) == 414.5
