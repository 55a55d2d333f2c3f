"""The demo region for the export tests: the demo centre built by `pingan demo`'s own code
(`synth.demo.build_demo`) at a small size, once per module, inside a transaction that is
rolled back at the end. Its clock is frozen on a fixed day, so the months, the cohorts and
the figures are the same on every run."""

from __future__ import annotations

import pytest
from django.db import transaction
from fhir_files import DEMO_CLIENTS, TODAY

from pingan.core import clock


@pytest.fixture(scope="module")
def region(django_db_setup, django_db_blocker):
    """The demo centre, built once for the module."""
    from pingan.synth import demo

    with django_db_blocker.unblock(), clock.frozen(TODAY):
        outer = transaction.atomic()
        outer.__enter__()
        real_fresh_database = demo.fresh_database
        demo.fresh_database = lambda: None  # the test database is empty already
        try:
            demo.build_demo(clients=DEMO_CLIENTS, progress=False, say=lambda _line: None)
        finally:
            demo.fresh_database = real_fresh_database
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def in_region(region, django_db_blocker):
    """Inside the module's demo region, on its frozen day."""
    with django_db_blocker.unblock(), clock.frozen(TODAY) as frozen:
        yield frozen
