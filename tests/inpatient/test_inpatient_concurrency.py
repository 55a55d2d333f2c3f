"""Two admissions to one bed at the same instant: one wins, the other is refused.

Each thread has its own database connection, so this runs against real locking (SQLite's
write lock; on PostgreSQL the bed row lock and the partial unique index)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from inpatient_factories import admission, tariff, unit

from pingan.audit.log import record, verify
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.inpatient import actions
from pingan.inpatient.models import LedgerEntry, Stay
from staff_factory import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # the test inspects what each thread got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_admissions_to_one_bed_one_wins():
    record("test_setup")  # the audit head exists before the threads race for it
    manager = make_user("manager")
    clinicians = [make_user("clinician", f"clinician-c{i}") for i in range(4)]
    bed = unit(manager)["shared"][0]
    tariff(manager, clock.today() - timedelta(days=1))

    results = run_together(4, lambda i: actions.admit(admission(7), bed, clinicians[i]))

    stays = [r for r in results if isinstance(r, Stay)]
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(stays) == 1, results
    assert len(refused) == 3, results
    assert {r.code for r in refused} == {"bed_taken"}
    assert Stay.objects.filter(bed=bed, discharged_at__isnull=True).count() == 1
    assert LedgerEntry.objects.count() == 1
    assert verify() == []
