"""In a region of several centres the background pass computes every scope the dashboard
and the evaluation open with: the pooled region and each centre (the 12 months to last
month, this month, the six-month evaluation), so no first visitor waits for the engines:
not a regional officer (the pooled trend and the side-by-side table of every centre), not
one centre's staff."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.cache import cache
from indicator_fixtures import d, days, doses, urine

from pingan.core.models import Centre
from pingan.indicators import freshness, queries
from pingan.indicators.definitions import Period
from pingan.region.models import Membership
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
CODES = ("CA", "CB", "CC")


@pytest.fixture
def region(clock_at):
    clock_at(datetime(2026, 4, 10, 10, 0))
    cache.clear()
    centres = {code: Centre.objects.create(code=code, name=f"Centre {code}") for code in CODES}
    for n, centre in enumerate(centres.values()):
        person = Client.objects.create(
            centre=centre, code=f"P{n}", alias="a", sex="M", birth_year=1980
        )
        Episode.objects.create(client=person, enrolled_on=d("2025-06-01"))
        doses(person, days("2026-02-01", "2026-04-09"), 60 + 10 * n)
        urine(person, "2026-03-10", opiates="negative", methadone="positive")
    yield centres
    cache.clear()


@pytest.fixture
def computed(monkeypatch):
    """The (month, scope) pairs the engines were asked for."""
    asked = []
    real = queries.month

    def month(period, centre_id=None):
        asked.append((str(period), centre_id))
        return real(period, centre_id)

    monkeypatch.setattr(queries, "month", month)
    return asked


def test_the_pass_computes_every_centre_and_the_region(region, computed):
    freshness.warm()
    scopes = {scope for _month, scope in computed}
    assert scopes == {None, *(c.pk for c in Centre.objects.all())}
    computed.clear()
    last = Period(2026, 3)
    for scope in [None, *(c.pk for c in region.values())]:
        freshness.trend(last, centre_id=scope)
        freshness.month_sets([Period(2026, 4)], scope)
    assert computed == []


def test_no_first_visitor_waits_after_the_pass(region, computed, client, users):
    Membership.objects.create(user=users["manager"], centre=region["CB"])
    freshness.warm()
    computed.clear()
    client.force_login(users["cdc"], backend=BACKEND)
    page = client.get("/indicators/")
    assert page.status_code == 200
    assert "centres-side-by-side" in page.content.decode()
    assert client.get("/indicators/?centre=CC").status_code == 200
    assert client.get("/indicators/evaluation/?centre=CA").status_code == 200
    client.force_login(users["manager"], backend=BACKEND)
    assert 'data-scope="CB"' in client.get("/indicators/").content.decode()
    assert client.get("/indicators/evaluation/").status_code == 200
    assert computed == []


def test_a_region_of_twenty_centres_stays_warm(clock_at, computed):
    """The pass's sets of 20 centres and the region all stay in the cache (the local-memory
    cache's default of 300 entries would drop the first ones computed)."""
    clock_at(datetime(2026, 4, 10, 10, 0))
    cache.clear()
    for n in range(20):
        Centre.objects.create(code=f"R{n:02d}", name=f"Centre {n}")
    freshness.warm()
    assert len({scope for _month, scope in computed}) == 21
    computed.clear()
    freshness.warm()
    assert computed == []
    cache.clear()


def test_a_dose_written_in_sql_to_an_old_month_shows_on_the_next_load(region, computed):
    """After the first count only the doses past the last one counted are read: a dose
    written without a signal, dated months back, still reaches its months on the next load."""
    freshness.trend(Period(2026, 3))
    computed.clear()
    person = Client.objects.get(code="P0")
    doses(person, [d("2025-12-31")])  # one SQL insert, no model signal
    freshness.trend(Period(2026, 3))
    assert sorted(computed) == [("2025-12", None), ("2026-01", None)]
    computed.clear()
    freshness.trend(Period(2026, 3))
    assert computed == []


def test_after_a_dose_the_side_by_side_table_shows_its_previous_figures(
    region, computed, client, users, monkeypatch
):
    """In the server, a regional officer's first load of this month after a dose computes
    nothing: every centre's column and the pooled one show the figures the pass left, the
    page says since when, and the next pass brings the dose in."""
    monkeypatch.setattr(freshness, "warming", lambda: True)
    freshness.warm()
    client.force_login(users["cdc"], backend=BACKEND)
    page = client.get("/indicators/?period=2026-04").content.decode()
    assert 'id="indicators-behind"' not in page
    computed.clear()
    doses(Client.objects.get(code="P1"), [d("2026-04-10")])
    page = client.get("/indicators/?period=2026-04").content.decode()
    assert computed == []
    assert 'id="indicators-behind"' in page
    freshness.warm()
    assert ("2026-04", region["CB"].pk) in computed and ("2026-04", None) in computed
    assert (
        'id="indicators-behind"' not in client.get("/indicators/?period=2026-04").content.decode()
    )
