"""The dosing actions check their own permission, whatever calls them: a dose, a hold and
the stock ledger refused to a role without it write nothing, not even an audit entry."""

from decimal import Decimal

import pytest
from django.urls import reverse
from dosing_factories import make_client, stocked

from pingan.audit.models import AuditEntry
from pingan.core.domain import Forbidden
from pingan.dosing import actions
from pingan.dosing.models import Dose, Hold, HoldKind, Product, Reconciliation, StockEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(users):
    """A client due a dose today, with stock on the shelf."""
    stocked(1000, users["manager"])
    return make_client("PA-0100", users["clinician"], mg=60)


def _written() -> tuple:
    return (
        Dose.objects.count(),
        StockEntry.objects.count(),
        Hold.objects.count(),
        Reconciliation.objects.count(),
        Product.objects.get().balance_ml,
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("role", ["manager", "cdc", "police"])
def test_a_dose_recorded_by_a_role_that_may_not_dose_is_refused(users, due, role):
    before = _written()
    with pytest.raises(Forbidden):
        actions.record_dose(due, users[role])
    with pytest.raises(Forbidden):
        actions.record_dose(due, None)
    assert _written() == before
    assert actions.record_dose(due, users["nurse"]).ok


@pytest.mark.parametrize("role", ["manager", "cdc", "police"])
def test_a_hold_placed_by_a_role_that_may_not_is_refused(users, due, role):
    before = _written()
    with pytest.raises(Forbidden):
        actions.place_hold(due, HoldKind.INTOXICATED, "smelled of alcohol", users[role])
    assert _written() == before


def test_the_nurse_and_the_clinician_may_both_place_a_hold(users, due):
    actions.place_hold(due, HoldKind.INTOXICATED, "smelled of alcohol", users["nurse"])
    actions.place_hold(due, HoldKind.OTHER, "asked to see the doctor", users["clinician"])
    placed = AuditEntry.objects.filter(action="hold_place").values_list("username", flat=True)
    assert sorted(placed) == ["clinician1", "nurse1"]


@pytest.mark.parametrize("role", ["nurse", "clinician", "cdc"])
def test_the_stock_ledger_is_the_managers(users, due, role):
    product = Product.objects.get()
    before = _written()
    for write in (
        lambda by: actions.receive(product, Decimal("100"), "B-9", by),
        lambda by: actions.record_waste(product, Decimal("5"), "spilt", by),
        lambda by: actions.correct(product, Decimal("-5"), "miscount", by),
        lambda by: actions.reconcile(product, due.created_at.date(), Decimal("1000"), "", by),
    ):
        with pytest.raises(Forbidden):
            write(users[role])
    assert _written() == before


def test_the_screens_still_answer_403_before_any_action(client_as, due):
    url = reverse("dosing:hold_place", args=[due.external_id])
    data = {"kind": HoldKind.INTOXICATED, "reason": "smelled of alcohol"}
    assert client_as("manager").post(url, data).status_code == 403
    assert not Hold.objects.exists()
    assert client_as("nurse").post(url, data).status_code == 302
    assert Hold.objects.get().created_by.username == "nurse1"
