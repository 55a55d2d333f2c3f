"""Journey: a clinician raises a dose past the step limit, sees what the change is and
which limit it breaks, gives a reason for the override and saves; the nurse's queue then
shows the override beside the dose."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, receive
from pingan.dosing.models import Prescription
from pingan.registry.actions import enrol_client

REASON = "疼痛加剧，经会诊同意"


@pytest.fixture
def titrating(users):
    """A client on 30 mg since an induction three days ago (an increase is due by the
    interval, not by the step), with methadone in stock."""
    client = enrol_client(alias="小周", sex="M", birth_year=1984, user=users["clinician"])
    Prescription.objects.create(
        client=client,
        mg=30,
        start_on=clock.today() - timedelta(days=3),
        clinician=users["clinician"],
        reason="induction",
        induction=True,
    )
    receive(ensure_default_product(), Decimal("1000"), "B-2026-002", users["manager"])
    return client


@pytest.mark.django_db(transaction=True)
def test_clinician_overrides_the_step_limit_and_the_nurse_sees_it(
    live_server, new_context, sign_in, users, titrating
):
    clinician = sign_in(new_context(locale="en-GB").new_page(), users["clinician"])
    # The screens are in Chinese by default; this journey reads them in English.
    clinician.goto(f"{live_server.url}{reverse('dosing:client', args=[titrating.external_id])}")
    with clinician.expect_navigation():
        clinician.locator("button[lang=en]").click()
    clinician.fill("#id_mg", "45")
    clinician.fill("#id_reason", "withdrawal at night")
    with clinician.expect_navigation():
        clinician.locator("form[action$='/prescribe/'] button[type=submit]").click()

    panel = clinician.locator("[data-panel=prescribe-confirm]")
    expect(panel.locator("[data-from]")).to_have_text("30 mg")
    expect(panel.locator("[data-to]")).to_have_text("45 mg")
    expect(panel.locator("[data-difference]")).to_have_text("+15 mg")
    expect(panel.locator("[data-percent]")).to_have_text("+50.0%")
    expect(panel.locator("[data-check=step]")).to_contain_text("15 mg")
    assert Prescription.objects.filter(client=titrating).count() == 1

    # The reason is required on the screen; with one, the override is saved.
    expect(panel.locator("#override_reason")).to_have_attribute("required", "")
    panel.locator("#override_reason").fill(REASON)
    with clinician.expect_navigation():
        panel.locator("[data-action=confirm-prescription]").click()
    expect(clinician.locator(".messages")).to_contain_text("30 → 45 mg")
    expect(clinician.locator(".messages")).to_contain_text(REASON)
    current = Prescription.objects.get(client=titrating, superseded_at__isnull=True)
    assert (current.mg, current.overrides, current.override_reason) == (45, "step", REASON)

    nurse = sign_in(new_context().new_page(), users["nurse"])
    nurse.goto(f"{live_server.url}{reverse('dosing:queue')}")
    row = nurse.locator(f'tr[data-client="{titrating.code}"]')
    expect(row.locator("[data-override]")).to_contain_text(REASON)
    expect(row).to_contain_text("45 mg")
