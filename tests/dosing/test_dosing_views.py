"""The dosing screens through the Django test client: two-click dosing, refusals, roles."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from dosing_factories import make_client, stocked

from pingan.core import clock
from pingan.dosing.models import Dose, Hold, Prescription, Reconciliation, StockEntry

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def product(users):
    return stocked(1000, users["manager"])


def test_nurse_doses_in_two_clicks_from_the_queue(client_as, users, product):
    c = make_client("PA-V001", users["clinician"], mg=55, alias="Lao Wang")
    web = client_as("nurse")
    page = web.get(reverse("dosing:queue"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-client="PA-V001"' in html and 'data-action="dose"' in html

    panel = web.get(reverse("dosing:dose_confirm", args=[c.external_id]), **HTMX).content.decode()
    assert 'data-action="confirm-dose"' in panel
    assert "PA-V001" in panel and "Lao Wang" in panel and "55" in panel and "55.00 ml" in panel

    row = web.post(reverse("dosing:dose", args=[c.external_id]), {"mg": "55"}, **HTMX)
    assert row.status_code == 200 and "✓" in row.content.decode()
    assert Dose.objects.filter(client=c, date=clock.today(), mg=55).exists()
    assert StockEntry.objects.filter(kind="dose").count() == 1


def test_stale_screen_second_dose_shows_refusal(client_as, users, product):
    c = make_client("PA-V002", users["clinician"])
    web = client_as("nurse")
    assert (
        web.post(reverse("dosing:dose", args=[c.external_id]), {"mg": "60"}, **HTMX).status_code
        == 200
    )
    again = web.post(reverse("dosing:dose", args=[c.external_id]), {"mg": "60"}, **HTMX)
    html = again.content.decode()
    assert again.status_code == 200
    assert 'class="refusal" role="alert"' in html and "nurse1" in html
    assert Dose.objects.filter(client=c, date=clock.today()).count() == 1
    # the confirm panel on a stale screen says why, too
    panel = web.get(reverse("dosing:dose_confirm", args=[c.external_id]), **HTMX).content.decode()
    assert 'role="alert"' in panel and 'data-action="confirm-dose"' not in panel


def test_queue_search_and_status_filter(client_as, users, product):
    make_client("PA-V003", users["clinician"], alias="Xiao Li")
    held = make_client("PA-V004", users["clinician"], alias="Da Zhang", last_dose_days_ago=4)
    web = client_as("nurse")
    assert "PA-V004" not in web.get(reverse("dosing:queue"), {"q": "xiao"}).content.decode()
    assert "PA-V003" in web.get(reverse("dosing:queue"), {"q": "xiao"}).content.decode()
    on_hold = web.get(reverse("dosing:queue"), {"status": "hold"}).content.decode()
    assert "PA-V004" in on_hold and "PA-V003" not in on_hold
    waiting = web.get(reverse("dosing:queue"), {"status": "waiting"}).content.decode()
    assert "PA-V003" in waiting and "PA-V004" not in waiting
    assert held.external_id  # no integer keys in the links
    assert f"/dosing/client/{held.external_id}/" in on_hold


def test_queue_is_a_fixed_number_of_queries(client_as, users, product):
    """No query per row: 5 clients or 40 cost the same number of queries."""
    web = client_as("nurse")

    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert web.get(reverse("dosing:queue")).status_code == 200
        return len(captured)

    for i in range(5):
        make_client(f"PA-N{i:03d}", users["clinician"])
    web.get(reverse("dosing:queue"))  # first use creates the centre row
    few = queries_for_queue()
    for i in range(5, 40):
        make_client(f"PA-N{i:03d}", users["clinician"], last_dose_days_ago=40 if i % 2 else 1)
    many = queries_for_queue()
    assert many <= few + 1  # one more query looks up clients absent for weeks
    assert web.get(reverse("dosing:queue")).content.decode().count("data-client=") == 40


@pytest.mark.parametrize("name", ["dosing:queue", "dosing:client", "dosing:stock"])
def test_police_gets_403(client_as, users, name):
    c = make_client("PA-V005", users["clinician"])
    args = [c.external_id] if name == "dosing:client" else []
    assert client_as("police").get(reverse(name, args=args)).status_code == 403


def test_nurse_cannot_prescribe(client_as, users):
    c = make_client("PA-V006", users["clinician"])
    response = client_as("nurse").post(
        reverse("dosing:prescribe", args=[c.external_id]),
        {"mg": 90, "start_on": "2026-01-01", "reason": "x"},
    )
    assert response.status_code == 403
    assert Prescription.objects.filter(client=c).count() == 1


def test_clinician_prescribes_and_clears_hold(client_as, users, product):
    c = make_client("PA-V007", users["clinician"], last_dose_days_ago=4)
    web = client_as("clinician")
    page = web.get(reverse("dosing:client", args=[c.external_id]))
    assert page.status_code == 200 and "missed" in page.content.decode()
    web.post(reverse("dosing:dose", args=[c.external_id]), {"mg": "60"})  # opens the hold
    hold = Hold.objects.get(client=c)
    bad = web.post(reverse("dosing:prescribe", args=[c.external_id]), {"mg": 900, "reason": ""})
    assert bad.status_code == 400
    order = {"mg": 50, "start_on": clock.today().isoformat(), "reason": "after missed days"}
    shown = web.post(reverse("dosing:prescribe", args=[c.external_id]), order)
    html = shown.content.decode()
    assert shown.status_code == 200 and 'data-action="confirm-prescription"' in html
    assert Prescription.objects.filter(client=c).count() == 1  # nothing saved before confirming
    ok = web.post(reverse("dosing:prescribe", args=[c.external_id]), {**order, "confirmed": "on"})
    assert ok.status_code == 302
    assert (
        web.post(reverse("dosing:hold_clear", args=[hold.external_id]), {"note": ""}).status_code
        == 400
    )
    web.post(reverse("dosing:hold_clear", args=[hold.external_id]), {"note": "reviewed, reduced"})
    hold.refresh_from_db()
    assert hold.cleared_at is not None and hold.clear_note == "reviewed, reduced"


def test_stock_screens_and_reconciliation_requires_explanation(client_as, users, product):
    web = client_as("manager")
    page = web.get(reverse("dosing:stock"))
    assert page.status_code == 200 and "1000.00" in page.content.decode()
    refused = web.post(
        reverse("dosing:stock"),
        {
            "kind": "correction",
            "correction-product": product.pk,
            "correction-ml": "-5",
            "correction-reason": "",
        },
    )
    assert refused.status_code == 400
    web.post(
        reverse("dosing:stock"),
        {
            "kind": "waste",
            "waste-product": product.pk,
            "waste-ml": "5",
            "waste-reason": "broken bottle",
        },
    )
    assert StockEntry.objects.order_by("-pk").first().balance_ml == Decimal("995.00")

    today = clock.today().isoformat()
    form = {"product": product.pk, "on": today, "counted_ml": "990", "explanation": ""}
    unexplained = web.post(reverse("dosing:reconcile"), form)
    assert unexplained.status_code == 400 and not Reconciliation.objects.exists()
    assert "请说明差异原因" in unexplained.content.decode()  # the default language is Chinese
    form.update(explanation="recount pending", post_correction="on")
    assert web.post(reverse("dosing:reconcile"), form).status_code == 302
    assert Reconciliation.objects.get().variance_ml == Decimal("-5.00")
    assert web.get(reverse("dosing:reconcile")).status_code == 200


def test_dispensing_log_lists_the_day(client_as, users, product):
    c = make_client("PA-V008", users["clinician"], mg=70)
    client_as("nurse").post(reverse("dosing:dose", args=[c.external_id]), {"mg": "70"})
    log = client_as("manager").get(reverse("dosing:log")).content.decode()
    assert "PA-V008" in log and "盐酸美沙酮" in log and "nurse1" in log
    assert client_as("nurse").get(reverse("dosing:log")).status_code == 403
