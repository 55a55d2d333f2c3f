"""One dose a day per person across the region: twenty nurses, half at the client's home
centre and half at the host of a guest slip, press "Confirm" for one client on one day at
once. Each thread has its own database connection; on PostgreSQL this is real row locking
and the unique (client, date) index."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from dosing_factories import make_client

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing import actions
from pingan.dosing.models import Dose, DoseKind, StockEntry
from pingan.region.models import Membership
from pingan.registry.models import Client
from staff_factory import make_user

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = 20


def run_together(n: int, work) -> list:
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
        thread.join(timeout=120)
    return results


@pytest.fixture
def setup():
    record("test_setup")  # the audit head exists before the threads race for it
    home = Centre.objects.create(code="HOME", name="Home Centre")
    host = Centre.objects.create(code="HOST", name="Host Centre")
    clinician, manager = make_user("clinician"), make_user("manager")
    Membership.objects.create(user=clinician, centre=home)
    client = make_client("HOME-C01", clinician)
    Client.objects.filter(pk=client.pk).update(centre=home)
    client.refresh_from_db()
    for centre in (home, host):
        actions.receive(actions.product_of(centre), 5000, f"B-{centre.code}", manager)
    nurses = [make_user("nurse", f"nurse-{i:02d}") for i in range(ATTEMPTS)]
    return home, host, client, clinician, nurses


def race(home, host, client, nurses):
    """Even attempts at home, odd ones at the host, all at once."""
    return run_together(
        ATTEMPTS,
        lambda i: actions.record_dose(client, nurses[i], centre=host if i % 2 else home),
    )


def test_on_a_slip_day_twenty_attempts_give_one_dose_at_the_host(setup):
    home, host, client, clinician, nurses = setup
    today = clock.today()
    actions.issue_guest_slip(client, host, today, today + timedelta(days=3), clinician)

    results = race(home, host, client, nurses)

    assert not [r for r in results if isinstance(r, Exception)], results
    ok = [i for i, r in enumerate(results) if r.ok]
    assert len(ok) == 1 and ok[0] % 2 == 1  # the host's
    dose = Dose.objects.get(client=client, date=today)
    assert (dose.kind, dose.centre_id) == (DoseKind.GUEST, host.pk)
    assert Dose.objects.filter(client=client, date=today).count() == 1
    assert StockEntry.objects.filter(dose__client=client, dose__date=today).count() == 1
    # Every home attempt is refused because of the slip (some also see the host's dose).
    home = [{b.code for b in r.blocks} for i, r in enumerate(results) if i % 2 == 0]
    assert all("guest_elsewhere" in codes for codes in home)


def test_on_another_day_twenty_attempts_give_one_dose_at_home(setup):
    home, host, client, _clinician, nurses = setup

    results = race(home, host, client, nurses)

    assert not [r for r in results if isinstance(r, Exception)], results
    ok = [i for i, r in enumerate(results) if r.ok]
    assert len(ok) == 1 and ok[0] % 2 == 0  # the home centre's: the host has no slip
    dose = Dose.objects.get(client=client, date=clock.today())
    assert (dose.kind, dose.centre_id) == (DoseKind.CLINIC, home.pk)
