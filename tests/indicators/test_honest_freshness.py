"""The dashboard keeps each month's figures until a write changes them: the second load
computes nothing, a new dose or a new urine sample changes the next load, and a write
recomputes only the months it can reach."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from indicator_fixtures import build_march, client, d, doses, urine

from pingan.core import clock

pytestmark = pytest.mark.django_db


def _figure(client_as, ind_id: str):
    response = client_as("clinician").get("/indicators/?period=2026-03")
    assert response.status_code == 200
    rows = {row["ind"].id: row["r"] for s in response.context["sections"] for row in s["rows"]}
    return rows[ind_id]


def test_the_second_load_computes_nothing(computed, client_as):
    build_march()
    _figure(client_as, "active_clients")
    assert len(computed) == 12
    computed.clear()
    _figure(client_as, "active_clients")
    assert computed == []


def test_a_new_dose_changes_the_next_load(computed, client_as):
    build_march()
    late = client("Z", ("2026-03-20", None))
    before = _figure(client_as, "active_clients").numerator
    computed.clear()
    # Doses written as the nurses' action writes them: one SQL statement, no model signal.
    doses(late, [d("2026-03-21")])
    assert _figure(client_as, "active_clients").numerator == before + 1
    assert computed == ["2026-03"]  # the months before it were not recomputed


def test_a_new_urine_sample_changes_the_next_load(
    computed, client_as, django_capture_on_commit_callbacks
):
    people = build_march()
    before = _figure(client_as, "opiate_positive_rate").denominator
    computed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        urine(people["A"], "2026-03-25", opiates="positive")
    assert _figure(client_as, "opiate_positive_rate").denominator == before + 1
    assert computed == ["2026-03"]


def test_an_edit_recomputes_every_month(computed, client_as, django_capture_on_commit_callbacks):
    people = build_march()
    _figure(client_as, "active_clients")
    computed.clear()
    episode = people["A"].episodes.first()
    with django_capture_on_commit_callbacks(execute=True):
        episode.save()
    _figure(client_as, "active_clients")
    assert len(computed) == 12


def test_the_background_pass_leaves_nothing_for_the_first_visitor(computed, client_as):
    from pingan.indicators import freshness

    build_march()
    freshness.warm()  # what the server's background thread runs
    computed.clear()
    client_as("clinician").get("/indicators/")  # the default: the 12 months to last month
    client_as("clinician").get("/indicators/evaluation/")
    assert computed == []


def test_a_dose_recorded_by_the_nurse_changes_the_next_load(users, client_as, clock_at):
    """Through the nurse's action, which inserts the dose in one SQL statement (no model
    signal), with the month's other figures already kept."""
    from decimal import Decimal

    from pingan.dosing import actions
    from pingan.dosing.models import Dose, Prescription
    from pingan.registry.models import Client, Episode

    clock_at(datetime(2026, 4, 15, 10, 0))
    cache.clear()
    product = actions.ensure_default_product()
    actions.receive(product, 1000, "B-001", users["manager"])
    person = Client.objects.create(code="Q1", alias="q", sex="M", birth_year=1980)
    Episode.objects.create(client=person, enrolled_on=d("2026-03-01"))
    Prescription.objects.create(
        client=person, mg=60, start_on=d("2026-03-01"), clinician=users["clinician"], reason="-"
    )
    Dose.objects.create(
        client=person, date=d("2026-04-14"), kind="clinic", mg=60, mg_in_clinic=60,
        mg_taken_home=0, strength_mg_per_ml=Decimal("1"), volume_ml=Decimal(60),
        given_at=clock.now() - timedelta(days=1),
    )  # fmt: skip

    def adherence():
        page = client_as("clinician").get("/indicators/?period=2026-04")
        rows = {row["ind"].id: row["r"] for s in page.context["sections"] for row in s["rows"]}
        return rows["adherence"].numerator

    before = adherence()
    assert actions.record_dose(person, users["nurse"]).ok
    assert adherence() == before + 1


def _page(client_as, period: str = "2026-03"):
    response = client_as("clinician").get(f"/indicators/?period={period}")
    assert response.status_code == 200
    rows = {row["ind"].id: row["r"] for s in response.context["sections"] for row in s["rows"]}
    return rows["active_clients"].numerator, response.content.decode()


def test_the_server_shows_the_previous_figures_while_it_recomputes_them(
    computed, client_as, server
):
    """A month a dose has moved is not recomputed while the visitor waits when the
    server's background pass recomputes it: the previous figures show, with the time they
    stand at, and the pass is woken. Once it has run, the new figures show, unmarked."""
    build_march()
    late = client("Z", ("2026-03-20", None))
    before, page = _page(client_as)
    assert 'id="indicators-behind"' not in page
    computed.clear()
    doses(late, [d("2026-03-21")])
    shown, page = _page(client_as)
    assert shown == before
    assert computed == []
    assert server._wake.is_set()
    assert 'id="indicators-behind"' in page and "2026-04-10 10:00" in page
    server.warm()
    assert "2026-03" in computed
    shown, page = _page(client_as)
    assert shown == before + 1
    assert 'id="indicators-behind"' not in page


def test_without_previous_figures_or_outside_the_pass_the_month_is_computed(
    computed, client_as, server
):
    """Nothing kept yet (a server just started), or a month the background pass does not
    recompute (older than the 12 months before this one): computed while the visitor
    waits, never shown stale."""
    build_march()
    late = client("Z", ("2025-03-20", None))
    _page(client_as, "2025-03")
    computed.clear()
    doses(late, [d("2025-03-21")])
    _, page = _page(client_as, "2025-03")
    assert "2025-03" in computed
    assert 'id="indicators-behind"' not in page
    cache.clear()
    computed.clear()
    _, page = _page(client_as)
    assert len(computed) == 12 and 'id="indicators-behind"' not in page


def test_the_report_never_takes_previous_figures(computed, client_as, server):
    """The CSV and the PDF are recomputed for a month a write has moved, server or not."""
    build_march()
    late = client("Z", ("2026-03-20", None))
    _page(client_as)
    doses(late, [d("2026-03-21")])
    computed.clear()
    response = client_as("manager").get("/indicators/export.csv?period=2026-03")
    assert response.status_code == 200
    assert "2026-03" in computed


def test_a_stock_ledger_line_reaches_no_month(
    computed, client_as, django_capture_on_commit_callbacks
):
    """No indicator reads the stock ledger: a receipt (like the ledger line of every dose)
    leaves every month's figures kept."""
    from pingan.core.models import Centre
    from pingan.dosing import actions
    from staff_factory import make_user

    build_march()
    _figure(client_as, "active_clients")
    computed.clear()
    product = actions.product_of(Centre.objects.order_by("pk").first())
    manager = make_user("manager", "m-stock")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.receive(product, 1000, "G-1", manager)
    assert not any("_changed" in c.__qualname__ for c in callbacks)
    _figure(client_as, "active_clients")
    assert computed == []
