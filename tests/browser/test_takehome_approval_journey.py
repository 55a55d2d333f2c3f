"""Journey: a take-home request through its whole chain in Chromium, each step from its own
workstation: the clinician requests 4 days for a client the record allows 4 and approves
them; the police officer finds the request, sees only the consented identity and records the
check as passed; the nurse picks the four days and dispenses the bottles into the lockbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode, Identity
from pingan.takehome.models import RequestStatus, TakeHomeBottle, TakeHomeRequest

MONDAY = datetime(2026, 6, 1, 10, 0)  # no holiday near


@pytest.fixture
def stable(users, clock_at):
    """On day 200: a dose every day, a negative sample every week, both consents, an
    identity, a lockbox, a prescription and stock: the shipped standard allows 4 days."""
    clock_at(MONDAY)
    today = clock.today()
    client = Client.objects.create(code="PA-88", alias="老赵", sex="M", birth_year=1978)
    enrolled = today - timedelta(days=200)
    Episode.objects.create(client=client, enrolled_on=enrolled)
    Dose.objects.bulk_create(
        Dose(
            client=client,
            date=enrolled + timedelta(days=i),
            mg=60,
            mg_in_clinic=60,
            strength_mg_per_ml=1,
            volume_ml=60,
            given_at=clock.now(),
        )
        for i in range(200)
    )
    for back in range(3, 200, 7):
        sample = UrineSample.objects.create(
            client=client, collected_on=today - timedelta(days=back)
        )
        UrineResult.objects.create(sample=sample, analyte="opiates", result="negative")
    for purpose in ("police_record_check", "sms"):
        Consent.objects.create(client=client, purpose=purpose, given_on=enrolled)
    Identity.objects.create(client=client, name="赵国强", national_id="110101197801010022")
    Box.objects.create(label="BOX-88", client=client, secret="cd" * 20, issued_on=enrolled)
    prescribe(client, 60, enrolled, users["clinician"], "maintenance")
    receive(ensure_default_product(), 5000, "B88", users["manager"])
    return client


@pytest.mark.django_db(transaction=True)
def test_a_take_home_is_requested_approved_checked_and_dispensed(
    live_server, new_context, sign_in, users, stable
):
    clinician = sign_in(new_context().new_page(), users["clinician"])
    clinician.goto(f"{live_server.url}{reverse('takehome:client', args=[stable.external_id])}")
    ask = clinician.locator(
        f"form[action$='{reverse('takehome:new_request', args=[stable.external_id])}']"
    )
    ask.locator("input[name=days]").fill("4")
    ask.locator("input[name=reason]").fill("外出务工")
    with clinician.expect_navigation():
        ask.locator("button[type=submit]").click()
    req = TakeHomeRequest.objects.get(client=stable)
    assert req.eligibility["allowed_days"] == 4
    with clinician.expect_navigation():
        clinician.locator("button[name=approve][value=yes]").click()
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED and req.approved_days == 4

    police = sign_in(new_context().new_page(), users["police"])
    police.goto(f"{live_server.url}{reverse('takehome:checks')}")
    with police.expect_navigation():
        police.locator(f"a[href$='{reverse('takehome:check', args=[req.external_id])}']").click()
    expect(police.locator("main")).to_contain_text(
        "赵国强"
    )  # consented: the name the check runs on
    expect(police.locator("main")).not_to_contain_text("60 mg")  # nothing clinical
    with police.expect_navigation():
        police.locator("button[name=passed][value=yes]").click()
    req.refresh_from_db()
    assert req.status == RequestStatus.READY

    nurse = sign_in(new_context().new_page(), users["nurse"])
    nurse.goto(f"{live_server.url}{reverse('takehome:request', args=[req.external_id])}")
    days = nurse.locator("form[action$='/dispense/'] input[name=day]")
    for i in range(4):
        days.nth(i).check()
    with nurse.expect_navigation():
        nurse.locator("form[action$='/dispense/'] button[type=submit]").click()
    req.refresh_from_db()
    assert req.status == RequestStatus.DISPENSED
    bottles = TakeHomeBottle.objects.filter(client=stable).order_by("day")
    tomorrow = clock.today() + timedelta(days=1)
    assert [b.day for b in bottles] == [tomorrow + timedelta(days=i) for i in range(4)]
    assert all(b.box.label == "BOX-88" and b.mg == 60 for b in bottles)
