"""Fixtures shared by the indicator tests of the freshness of the dashboard's figures."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.cache import cache

from pingan.indicators import queries


@pytest.fixture
def computed(monkeypatch, clock_at):
    """The months the engines were asked for, in order (10 April 2026, the cache empty)."""
    clock_at(datetime(2026, 4, 10, 10, 0))
    cache.clear()
    asked = []
    real = queries.month

    def month(period, *centre):
        asked.append(str(period))
        return real(period, *centre)

    monkeypatch.setattr(queries, "month", month)
    yield asked
    cache.clear()


@pytest.fixture
def server(monkeypatch):
    """As in the server: the background pass runs (here: is said to), and is woken."""
    from pingan.indicators import freshness

    monkeypatch.setattr(freshness, "warming", lambda: True)
    freshness._wake.clear()
    return freshness
