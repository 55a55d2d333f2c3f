"""The screens: board, admission with quote, stay actions, money, tariff, permissions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from inpatient_factories import admission, tariff, unit

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.inpatient import actions, billing, care
from pingan.inpatient.models import InpatientDose, LedgerEntry, Stay, TariffVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward(users):
    beds = unit(users["manager"])
    version = tariff(users["manager"], clock.today() - timedelta(days=10))
    stay = actions.admit(admission(7), beds["shared"][0], users["clinician"])
    return {"beds": beds, "tariff": version, "stay": stay}


def form(bed, **extra) -> dict:
    data = {
        "alias": "小马",
        "sex": "M",
        "birth_year": "1985",
        "bed": str(bed.pk),
        "drug": "heroin",
        "years_of_use": "5",
        "route": "smoked",
        "amount_band": "medium",
        "previous_treatments": "0",
        "planned_days": "7",
        "return_card_code": "",
        "reason": "",
    }
    data.update(extra)
    return data


def test_board_shows_each_state_and_refreshes_by_htmx(client_as, ward):
    page = client_as("nurse").get(reverse("inpatient:board"))
    body = page.content.decode()
    assert 'data-status="occupied"' in body and 'hx-trigger="every 30s"' in body
    partial = client_as("nurse").get(reverse("inpatient:board"), HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert b'data-count="occupied">1<' in partial.content


def test_quote_writes_nothing_and_shows_each_factor(client_as, ward):
    bed = ward["beds"]["shared"][1]
    before = Stay.objects.count()
    page = client_as("clinician").post(reverse("inpatient:admit"), form(bed, action="quote"))
    assert page.status_code == 200
    body = page.content.decode()
    for factor in ("base", "room", "drug", "severity"):
        assert f'data-factor="{factor}"' in body
    assert "¥306.00" in body and "¥2,142.00" in body
    assert Stay.objects.count() == before


def test_admit_through_the_form_then_card(client_as, ward):
    bed = ward["beds"]["private"][0]
    response = client_as("manager").post(reverse("inpatient:admit"), form(bed, action="admit"))
    assert response.status_code == 302
    stay = Stay.objects.get(bed=bed)
    assert stay.price_per_day == Decimal("438.00")  # 380 × 1.1 + 20
    card = client_as("manager").get(reverse("inpatient:card", args=[stay.external_id]))
    assert stay.person.return_card_code in card.content.decode()


@pytest.mark.parametrize(
    "bad",
    [
        {"planned_days": "0"},
        {"planned_days": "-1"},
        {"return_card_code": "ZZZZZZZZ"},
        {"alias": ""},
    ],
)
def test_bad_admission_forms_are_refused_with_nothing_written(client_as, ward, bad):
    before = (Stay.objects.count(), LedgerEntry.objects.count())
    response = client_as("clinician").post(
        reverse("inpatient:admit"), form(ward["beds"]["shared"][1], action="admit", **bad)
    )
    assert response.status_code == 400
    assert (Stay.objects.count(), LedgerEntry.objects.count()) == before


def test_occupied_bed_is_not_offered(client_as, ward):
    response = client_as("clinician").post(
        reverse("inpatient:admit"), form(ward["beds"]["shared"][0], action="admit")
    )
    assert response.status_code == 400
    assert Stay.objects.count() == 1


def test_payment_receipt_and_overpayment_message(client_as, ward):
    stay = ward["stay"]
    manager = client_as("manager")
    url = reverse("inpatient:pay", args=[stay.external_id])
    refused = manager.post(url, {"amount": "9999.00", "method": "cash"})
    assert refused.status_code == 400
    assert "¥1,820.00" in refused.content.decode()
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert manager.post(url, {"amount": "1820.00", "method": "cash"}).status_code == 302
    entry = LedgerEntry.objects.get(kind="payment")
    receipt = manager.get(reverse("inpatient:receipt", args=[entry.external_id]))
    assert entry.receipt_number in receipt.content.decode()
    assert "¥1,820.00" in receipt.content.decode()


def test_nurse_cannot_take_payments_and_police_see_nothing(client_as, ward):
    stay = ward["stay"]
    nurse = client_as("nurse")
    assert (
        nurse.post(reverse("inpatient:pay", args=[stay.external_id]), {"amount": "1"}).status_code
        == 403
    )
    assert nurse.get(reverse("inpatient:stay", args=[stay.external_id])).status_code == 200
    assert (
        b'data-form="pay"'
        not in nurse.get(reverse("inpatient:stay", args=[stay.external_id])).content
    )
    police = client_as("police")
    for url in (
        reverse("inpatient:board"),
        reverse("inpatient:stay", args=[stay.external_id]),
        reverse("inpatient:admit"),
        reverse("inpatient:today"),
        reverse("inpatient:report"),
        reverse("inpatient:tariffs"),
    ):
        assert police.get(url).status_code == 403
    assert AuditEntry.objects.filter(action="access_denied", username="police1").count() == 6
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_nurse_records_todays_dose_even_unpaid(client_as, ward, users):
    stay = ward["stay"]
    care.order_taper(stay, clock.today(), 40, 5, 1, users["clinician"])
    nurse = client_as("nurse")
    listing = nurse.get(reverse("inpatient:today")).content.decode()
    assert stay.person.return_card_code in listing and ">40<" in listing
    response = nurse.post(reverse("inpatient:dose", args=[stay.external_id]), {"given_mg": "40"})
    assert response.status_code == 302
    again = nurse.post(reverse("inpatient:dose", args=[stay.external_id]), {"given_mg": "40"})
    assert again.status_code == 400
    assert InpatientDose.objects.count() == 1


def test_tariff_with_a_gap_is_refused_at_publication(client_as, ward):
    manager = client_as("manager")
    manager.post(reverse("inpatient:tariffs"), {"name": "2027", "effective_from": "2027-01-01"})
    draft = TariffVersion.objects.get(name="2027")
    url = reverse("inpatient:tariff", args=[draft.external_id])
    manager.post(url, {"action": "save", "rate-private-other": ""})
    response = manager.post(url, {"action": "publish"})
    assert response.status_code == 400
    assert "private" in response.content.decode()
    draft.refresh_from_db()
    assert draft.published_at is None


def test_discharge_refund_and_step_down_through_the_screens(client_as, ward, users):
    stay = ward["stay"]
    billing.take_payment(stay, "1820.00", users["manager"])
    manager = client_as("manager")
    assert (
        manager.post(reverse("inpatient:discharge", args=[stay.external_id]), {}).status_code == 302
    )
    page = manager.get(reverse("inpatient:stay", args=[stay.external_id])).content.decode()
    assert "¥1,560.00" in page  # six unused nights of 260.00 to refund
    refund = manager.post(
        reverse("inpatient:refund", args=[stay.external_id]),
        {"amount": "1560.00", "method": "cash"},
    )
    assert refund.status_code == 302
    assert manager.post(reverse("inpatient:step_down", args=[stay.external_id])).status_code == 302
    stay.refresh_from_db()
    assert stay.referred_client is not None


def test_report_shows_care_per_clinician(client_as, ward, users):
    care.record_care(ward["stay"], "psychiatric_review", users["clinician"])
    page = client_as("manager").get(reverse("inpatient:report")).content.decode()
    assert 'data-clinician="clinician1"' in page
