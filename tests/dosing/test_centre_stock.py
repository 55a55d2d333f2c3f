"""Each centre's stock is its own: a dose at a centre comes out of that centre's product
(the fact sheet reads the client's centre's solution and thresholds, not the
installation's first), and the stock screen, the reconciliation and the dispensing log of
a centre show only its own products and the doses given there."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from dosing_factories import make_client

from pingan.core.models import Centre
from pingan.dosing import actions
from pingan.region.models import Membership
from pingan.registry.models import Client
from staff_factory import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(clock_at):
    """Centres A and B, each with a client on 60 mg, a nurse, a manager and its stock; B
    was created second, so a rule that takes the installation's first centre takes A's."""
    clock_at(datetime(2026, 5, 4, 9, 0))
    made = {}
    for code in ("CA", "CB"):
        centre = Centre.objects.create(code=code, name=f"Centre {code}")
        staff = {
            role: make_user(role, f"{role}-{code}") for role in ("nurse", "clinician", "manager")
        }
        for user in staff.values():
            Membership.objects.create(user=user, centre=centre)
        person = make_client(f"{code}-001", staff["clinician"])
        Client.objects.filter(pk=person.pk).update(centre=centre)
        person.refresh_from_db()
        product = actions.product_of(centre)
        actions.receive(product, 1000, f"LOT-{code}", staff["manager"])
        made[code] = {"centre": centre, "client": person, "product": product, **staff}
    return made


def _balance(product) -> Decimal:
    return product.entries.order_by("-pk").first().balance_ml


def test_a_dose_at_the_second_centre_comes_out_of_its_own_stock(two):
    b = two["CB"]
    actions.record_dose(b["client"], b["nurse"], centre=b["centre"])
    assert _balance(b["product"]) == Decimal("940.00")
    assert _balance(two["CA"]["product"]) == Decimal("1000.00")


def test_the_stock_screens_and_the_log_show_the_centres_own(two, client):
    for code in ("CA", "CB"):
        actions.record_dose(two[code]["client"], two[code]["nurse"], centre=two[code]["centre"])
    client.force_login(two["CB"]["manager"], backend="django.contrib.auth.backends.ModelBackend")
    stock = client.get(reverse("dosing:stock")).content.decode()
    assert "LOT-CB" in stock and "LOT-CA" not in stock
    assert "CB-001" in stock and "CA-001" not in stock
    log = client.get(reverse("dosing:log")).content.decode()
    assert "CB-001" in log and "CA-001" not in log
    reconcile = client.get(reverse("dosing:reconcile"))
    assert reconcile.status_code == 200
    assert reconcile.context["product"] == two["CB"]["product"]
    # The other centre's product cannot be chosen for a ledger line.
    response = client.post(
        reverse("dosing:stock"),
        {
            "kind": "receipt",
            "receipt-product": two["CA"]["product"].pk,
            "receipt-ml": "10",
            "receipt-batch": "X",
        },
    )
    assert response.status_code == 400
    assert _balance(two["CA"]["product"]) == Decimal("940.00")


def test_each_centre_sets_its_own_dosing_limits(two, client):
    from pingan.dosing import queries
    from pingan.dosing.models import DosingLimits

    client.force_login(two["CB"]["manager"], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dosing:limits"))
    form = page.context["form"]
    values = {name: form[name].value() for name in form.fields}
    values["first_dose_max_mg"] = 20
    response = client.post(reverse("dosing:limits"), values)
    assert response.status_code == 302, response.content.decode()[:500]
    assert DosingLimits.objects.get(centre=two["CB"]["centre"]).first_dose_max_mg == 20
    assert not DosingLimits.objects.filter(centre=two["CA"]["centre"]).exists()
    assert queries.thresholds(two["CB"]["centre"]).induction_cap_mg == 20
    assert queries.thresholds(two["CA"]["centre"]).induction_cap_mg != 20
    sheet = queries.fact_sheet(
        two["CB"]["client"], two["CB"]["client"].episodes.first().enrolled_on
    )
    assert sheet.thresholds.induction_cap_mg == 20
