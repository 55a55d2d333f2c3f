"""Shared by the fuzz tests: everything under tests/fuzz carries the `fuzz` marker (they run
in the normal suite; `-m "not fuzz"` leaves them out while working), and a switch that keeps
Django from closing the test's database connection between in-process WSGI requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import signals
from django.db import close_old_connections


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture
def in_process_wsgi():
    """A WSGI call fires request_started/finished, which close the database connection when
    it is inside a transaction; that is the test's own transaction here. Django's test
    client disconnects the same handler for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
