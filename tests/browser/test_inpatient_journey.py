"""Journey through the detox unit in Chromium: a clinician quotes and admits an anonymous
patient and orders a taper; the nurse gives today's dose before anything is paid; the
manager takes the cash prepayment and prints the receipt; the patient leaves early, the
unused nights are refunded to the fen, and the stay steps down to community MMT."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from pingan.core import clock
from pingan.inpatient import actions
from pingan.inpatient.models import InpatientDose, LedgerEntry, Stay


@pytest.fixture
def unit_ready(users):
    """One shared room with two beds and a published tariff (the documented defaults)."""
    room = actions.add_room("A", "shared", ["1", "2"], users["manager"])
    draft = actions.create_tariff("2026", clock.today() - timedelta(days=1), users["manager"])
    actions.publish_tariff(draft, users["manager"])
    return room.beds.get(label="1")


@pytest.mark.django_db(transaction=True)
def test_admit_quote_pay_taper_discharge(live_server, new_context, sign_in, users, unit_ready):
    base = live_server.url
    clinician = sign_in(new_context().new_page(), users["clinician"])

    # Quote, then admit: nobody's name, only alias, sex and birth year.
    clinician.goto(f"{base}{reverse('inpatient:board')}")
    expect(clinician.locator('[data-bed="A-1"]')).to_have_attribute("data-status", "free")
    clinician.click('[data-action="admit"]')
    clinician.fill("#id_alias", "阿强")
    clinician.select_option("#id_sex", "M")
    clinician.fill("#id_birth_year", "1982")
    clinician.select_option("#id_bed", str(unit_ready.pk))
    clinician.select_option("#id_drug", "heroin")
    clinician.fill("#id_years_of_use", "5")
    clinician.select_option("#id_amount_band", "medium")
    clinician.fill("#id_planned_days", "7")
    clinician.click('[data-action="quote"]')
    quote = clinician.locator("[data-quote]")
    expect(quote.locator("[data-day-price]")).to_have_text("¥306.00")
    expect(quote.locator("[data-total]")).to_have_text("¥2,142.00")
    expect(quote.locator('[data-factor="severity"] td.num')).to_have_text("¥46.00")
    assert not Stay.objects.exists()  # a quote writes nothing
    clinician.click('[data-action="confirm-admit"]')
    expect(clinician.locator("[data-stay-state=open]")).to_be_visible()
    stay = Stay.objects.get()
    expect(clinician.locator("h1")).to_contain_text(stay.person.return_card_code)

    # Taper: 40 mg today, 5 mg less each day.
    clinician.fill('[data-form="taper"] input[name=start_mg]', "40")
    clinician.fill('[data-form="taper"] input[name=reduce_mg]', "5")
    clinician.click('[data-action="order-taper"]')
    expect(clinician.locator("[data-planned-mg]")).to_have_text("40")

    # The nurse doses before anything is paid: money never blocks methadone.
    nurse = sign_in(new_context().new_page(), users["nurse"])
    nurse.goto(f"{base}{reverse('inpatient:stay', args=[stay.external_id])}")
    expect(nurse.locator('[data-form="pay"]')).to_have_count(0)
    nurse.click('[data-action="record-dose"]')
    expect(nurse.locator("[data-dose-given]")).to_contain_text("40 mg")
    assert InpatientDose.objects.get().given_mg == 40

    # The manager takes the prepayment; overpaying is refused, the receipt prints.
    manager = sign_in(new_context().new_page(), users["manager"])
    stay_url = f"{base}{reverse('inpatient:stay', args=[stay.external_id])}"
    manager.goto(stay_url)
    manager.fill('[data-form="pay"] input[name=amount]', "2142.01")
    manager.click('[data-action="pay"]')
    expect(manager.locator(".messages li.error")).to_contain_text("¥2,142.00")
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    manager.fill('[data-form="pay"] input[name=amount]', "2142.00")
    manager.click('[data-action="pay"]')
    expect(manager.locator("[data-due]")).to_have_text("¥0.00")
    receipt = LedgerEntry.objects.get(kind="payment")
    with manager.expect_popup() as popup:
        manager.click(f'[data-receipt="{receipt.receipt_number}"]')
    expect(popup.value.locator("[data-amount]")).to_have_text("¥2,142.00")

    # Early discharge (same day: one night used) and the refund of six unused nights.
    manager.click('[data-action="discharge"]')
    expect(manager.locator("[data-stay-state=discharged]")).to_be_visible()
    expect(manager.locator("[data-credit]")).to_have_text("¥1,836.00")
    manager.fill('[data-form="refund"] input[name=amount]', "1836.00")
    manager.click('[data-action="refund"]')
    expect(manager.locator("[data-credit]")).to_have_text("¥0.00")
    expect(manager.locator("[data-due]")).to_have_text("¥0.00")
    assert LedgerEntry.objects.get(kind="refund").amount == Decimal("1836.00")

    # Step down to community MMT, anonymously.
    manager.click('[data-action="step-down"]')
    expect(manager.locator("[data-referred]")).not_to_be_empty()
    stay.refresh_from_db()
    assert stay.referred_client.alias == "阿强"
    manager.goto(f"{base}{reverse('inpatient:board')}")
    expect(manager.locator('[data-bed="A-1"]')).to_have_attribute("data-status", "cleaning")
