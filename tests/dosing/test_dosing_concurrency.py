"""Concurrency: two nurses pressing "Confirm" at once, and the stock ledger under load.

Each thread has its own database connection, so these run against real locking (SQLite's
write lock, PostgreSQL's row locks and unique index)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from dosing_factories import make_client, stocked

from pingan.accounts.roles import ROLES
from pingan.audit.log import record, verify
from pingan.core import clock
from pingan.dosing import actions
from pingan.dosing.models import Dose, StockEntry
from staff_factory import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff():
    record("test_setup")  # the audit head exists before the threads race for it
    return {role: make_user(role) for role in ROLES}


def run_together(n: int, work) -> list:
    """Start `n` threads at the same instant; return what each returned (or raised)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # reported to the test, which fails on it
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_doses_for_one_client_record_exactly_one(staff):
    stocked(1000, staff["manager"])
    client = make_client("PA-C001", staff["clinician"])
    nurses = [make_user("nurse", f"nurse-c{i}") for i in range(6)]

    results = run_together(6, lambda i: actions.record_dose(client, nurses[i]))

    assert not [r for r in results if isinstance(r, Exception)], results
    ok = [r for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    assert len(ok) == 1 and len(refused) == 5
    assert all(r.blocks[0].code == "already_dosed" for r in refused)
    assert Dose.objects.filter(client=client, date=clock.today()).count() == 1
    assert StockEntry.objects.filter(kind="dose").count() == 1
    assert verify() == []


def test_stock_under_concurrent_dispensing_never_goes_negative(staff):
    product = stocked(250, staff["manager"])
    clients = [make_client(f"PA-S{i:03d}", staff["clinician"], mg=60) for i in range(8)]
    nurses = [make_user("nurse", f"nurse-s{i}") for i in range(8)]

    results = run_together(8, lambda i: actions.record_dose(clients[i], nurses[i]))

    assert not [r for r in results if isinstance(r, Exception)], results
    ok = [r for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    assert len(ok) == 4  # 4 × 60 ml fit in 250 ml, the fifth would not
    assert all(r.blocks[0].code == "stock" for r in refused)
    entries = list(StockEntry.objects.filter(product=product).order_by("pk"))
    running = Decimal("0")
    for entry in entries:
        running += entry.ml
        assert entry.balance_ml == running and entry.balance_ml >= 0
    assert entries[-1].balance_ml == StockEntry.objects.aggregate(s=Sum("ml"))["s"] == Decimal("10")
    assert (
        StockEntry.objects.filter(kind="dose").count()
        == len(ok)
        == Dose.objects.filter(date=clock.today()).count()
    )
