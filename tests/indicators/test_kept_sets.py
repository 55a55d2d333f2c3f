"""A server just started shows the figures its last background pass kept in the database,
marked with the time they stand at, instead of computing every month while the first
visitor waits; the pass then computes them again and the mark goes."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.cache import cache
from django.utils import translation
from indicator_fixtures import build_march, client, d, doses

from pingan.core import clock
from pingan.indicators import freshness
from pingan.indicators.definitions import Period, unavailable
from pingan.indicators.models import KeptSet

# Every test runs as in the server, whose background pass runs (`server`).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("server")]


def _restart():
    """What a new server process starts with: nothing in memory."""
    cache.clear()
    freshness.forget_dose_counts()


def _page(client_as):
    response = client_as("clinician").get("/indicators/?period=2026-03")
    assert response.status_code == 200
    rows = {row["ind"].id: row["r"] for s in response.context["sections"] for row in s["rows"]}
    return rows, response.content.decode()


def test_the_pass_keeps_each_set_it_computes(computed):
    build_march()
    freshness.warm()
    kept = {row.period: row for row in KeptSet.objects.filter(scope="region")}
    assert sorted(kept) == [str(p) for p in freshness._warm_months()]
    march = freshness.month_sets([Period(2026, 3)])[0]
    assert kept["2026-03"].computed_at == clock.now()
    assert freshness._kept_sets([Period(2026, 3)], None)[Period(2026, 3)].results == march.results
    # A second pass over unchanged months computes and writes nothing.
    computed.clear()
    KeptSet.objects.update(computed_at=datetime(2026, 1, 1, tzinfo=clock.now().tzinfo))
    freshness.warm()
    assert computed == []
    assert set(KeptSet.objects.values_list("computed_at", flat=True)) == {
        datetime(2026, 1, 1, tzinfo=clock.now().tzinfo)
    }


def test_a_server_just_started_shows_the_kept_figures_marked(computed, client_as, clock_at):
    build_march()
    freshness.warm()
    before, _ = _page(client_as)
    late = client("Z", ("2026-03-20", None))
    doses(late, [d("2026-03-21")])  # written while the server was down
    clock_at(datetime(2026, 4, 10, 11, 0))
    _restart()
    computed.clear()
    shown, page = _page(client_as)
    assert computed == []  # nothing computed while the visitor waits
    assert shown["active_clients"].numerator == before["active_clients"].numerator
    assert 'id="indicators-behind"' in page and "2026-04-10 10:00" in page
    assert freshness._wake.is_set()
    freshness.warm()
    assert "2026-03" in computed
    shown, page = _page(client_as)
    assert shown["active_clients"].numerator == before["active_clients"].numerator + 1
    assert 'id="indicators-behind"' not in page
    row = KeptSet.objects.get(scope="region", period="2026-03")
    assert row.computed_at == clock.now()


def test_kept_figures_are_never_exported_nor_shown_outside_the_server(
    computed, client_as, monkeypatch
):
    build_march()
    freshness.warm()
    _restart()
    computed.clear()
    response = client_as("manager").get("/indicators/export.csv?period=2026-03")
    assert response.status_code == 200 and "2026-03" in computed
    _restart()
    computed.clear()
    monkeypatch.setattr(freshness, "warming", lambda: False)  # a command, a test
    _, page = _page(client_as)
    assert len(computed) == 12 and 'id="indicators-behind"' not in page


def test_each_centre_keeps_its_own_figures(computed):
    from pingan.core.models import Centre

    build_march()
    other = Centre.objects.create(code="C-2", name="Second")
    freshness.warm()
    scopes = set(KeptSet.objects.values_list("scope", flat=True))
    first = Centre.objects.exclude(pk=other.pk).get()
    assert scopes == {"region", f"centre{first.pk}", f"centre{other.pk}"}
    _restart()
    alone = freshness.month_sets([Period(2026, 3)], other.pk, stale_ok=True)[0]
    assert alone.stale and alone.results["active_clients"].numerator == 0


def test_a_note_is_kept_as_its_message_and_shown_in_the_readers_language(computed):
    result = unavailable(freshness.gettext_lazy("module not installed"))
    kept = freshness._from_kept(freshness._as_kept(result))
    with translation.override("en"):
        assert str(kept.note) == "module not installed"
    with translation.override("zh-hans"):
        assert str(kept.note) != "module not installed" and str(kept.note)
    assert (kept.value, kept.numerator, kept.suppressed) == (None, None, False)


def test_a_server_just_started_counts_no_dose_to_show_the_kept_figures(
    computed, client_as, monkeypatch
):
    """Nothing computed in the process yet: no version can be in the cache, so the kept
    sets are shown without counting the doses (half a second at 6 million doses)."""
    build_march()
    freshness.warm()
    _restart()
    counted = []
    real = freshness._dose_marks
    monkeypatch.setattr(freshness, "_dose_marks", lambda p: counted.append(p) or real(p))
    computed.clear()
    shown, page = _page(client_as)
    assert counted == [] and computed == []
    assert 'id="indicators-behind"' in page
    # A month the pass never kept (older than its months) is counted and computed.
    response = client_as("clinician").get("/indicators/?period=2024-01")
    assert response.status_code == 200 and counted and "2024-01" in computed


def test_a_set_kept_before_an_indicator_was_defined_is_not_shown(computed, client_as):
    """After an upgrade that defines a new indicator, a kept set without it is computed
    again rather than shown without that row."""
    build_march()
    freshness.warm()
    row = KeptSet.objects.get(scope="region", period="2026-03")
    row.results.pop("active_clients")
    row.results["retired_indicator"] = {"value": 1, "numerator": 1, "denominator": None}
    row.save()
    _restart()
    computed.clear()
    shown, _ = _page(client_as)
    assert "2026-03" in computed and shown["active_clients"].numerator is not None
    kept = freshness._kept_sets([Period(2026, 2)], None)[Period(2026, 2)]
    assert set(kept.results) == {ind.id for ind in freshness.INDICATORS}


def test_the_police_see_kept_figures_suppressed_as_any_others(computed, client_as):
    """A kept set is the full set; what the police see of it is suppressed on the way to
    the screen, as for a set computed now (the counts behind a figure are kept with it)."""
    build_march()
    freshness.warm()
    _restart()
    computed.clear()
    response = client_as("police").get("/indicators/?period=2026-03")
    page = response.content.decode()
    assert response.status_code == 200 and computed == []
    assert 'id="indicators-behind"' in page and "/clients/" not in page
    shown = {row["ind"].id: row["r"] for sec in response.context["sections"] for row in sec["rows"]}
    # One take-home client: hidden, and clinic-only with it (the total would reveal it).
    assert shown["takehome_adherence"].value is None
    assert shown["clinic_only_adherence"].value is None
    for section in response.context["sections"]:
        for row in section["rows"]:
            r = row["r"]
            if row["ind"].unit == "people":
                assert r.numerator is None or r.numerator == 0 or r.numerator >= 5
