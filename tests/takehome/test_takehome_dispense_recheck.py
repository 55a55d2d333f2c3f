"""Dispensing re-checks the client against the standard in force: a lapse since the approval
refuses the dispense with its reason, and nothing is written."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from takehome_factories import add_dose, add_sample

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.dosing.models import Dose, DoseKind, StockEntry
from pingan.registry.models import Consent
from pingan.takehome import actions
from pingan.takehome.models import RequestStatus, TakeHomeBottle
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def ahead(n: int) -> list:
    today = clock.today()
    return [today + timedelta(days=i) for i in range(1, n + 1)]


def nothing_dispensed(client, req) -> None:
    req.refresh_from_db()
    assert req.status == RequestStatus.READY and req.dispensed_at is None
    assert not TakeHomeBottle.objects.filter(client=client).exists()
    assert not Dose.objects.filter(client=client, kind=DoseKind.TAKEHOME).exists()
    assert not StockEntry.objects.filter(dose__client=client).exists()
    assert not AuditEntry.objects.filter(action="takehome_dispense").exists()


def test_dispense_after_a_new_positive_sample_is_refused_with_the_reason(
    stable, users, monday, ready_request
):
    req = ready_request(stable, 4)
    assert req.eligibility["allowed_days"] == 4
    add_dose(stable, clock.today())  # observed dose on the day of the approval
    add_sample(stable, clock.today(), "positive")  # and a positive sample that day
    monday.advance(days=1)
    with pytest.raises(Refusal) as refused:
        actions.dispense_takehome(req, ahead(4), users["nurse"])
    assert refused.value.code == "lapsed"
    message = refused.value.message
    assert message.startswith("Not dispensed: the client no longer meets the standard in force.")
    assert "The record no longer allows take-home:" in message
    # Each tier tried and why: the positive fails all three.
    assert (
        "the 4-day tier (from day 180) not met: positive sample on 2026-06-01, 1 days ago"
        in message
    )
    assert "the 2-day tier (from day 90) not met: positive sample on 2026-06-01" in message
    nothing_dispensed(stable, req)


def test_the_nurse_sees_the_lapse_before_choosing_and_on_refusal_in_chinese(
    stable, users, monday, ready_request, browser_as
):
    req = ready_request(stable, 2)
    add_sample(stable, clock.today(), "positive")
    monday.advance(days=1)
    nurse = browser_as("nurse", "zh-hans")
    page = nurse.get(reverse("takehome:request", args=[req.external_id])).content.decode()
    assert "今日已按现行标准重新核查：发药将被拒绝。" in page
    assert "2 天档（自治疗第 90 天起）未达到：2026-06-01 尿检阳性，1 天前" in page
    days = [d.isoformat() for d in ahead(2)]
    response = nurse.post(
        reverse("takehome:dispense", args=[req.external_id]), {"day": days}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "未发药：服务对象已不再符合现行标准。"
    assert any(m.startswith("记录已不再允许带药回家：") for m in shown)
    nothing_dispensed(stable, req)


def test_dispense_after_a_missed_week_is_refused(stable, users, monday, ready_request):
    req = ready_request(stable, 4)
    monday.advance(days=7)  # no dose from the approval day on
    with pytest.raises(Refusal, match="adherence 23/30 days < 90%"):
        actions.dispense_takehome(req, ahead(4), users["nurse"])
    nothing_dispensed(stable, req)


def test_dispense_after_a_revoked_consent_is_refused(stable, users, monday, ready_request):
    req = ready_request(stable, 4)
    Consent.objects.filter(client=stable, purpose="sms").update(revoked_on=clock.today())
    with pytest.raises(Refusal, match="no consent to text messages"):
        actions.dispense_takehome(req, ahead(2), users["nurse"])
    nothing_dispensed(stable, req)


def test_dispense_while_suspended_is_refused_until_lifted(stable, users, monday, ready_request):
    req = ready_request(stable, 2)
    held = actions.suspend_takehome(
        stable,
        "box seen opened by a neighbour",
        clock.today() + timedelta(days=14),
        users["clinician"],
    )
    with pytest.raises(Refusal) as refused:
        actions.dispense_takehome(req, ahead(2), users["nurse"])
    assert (
        "Take-home is suspended since 2026-06-01: box seen opened by a neighbour"
        " (review by 2026-06-15)." in refused.value.message
    )
    nothing_dispensed(stable, req)
    actions.lift_suspension(held, "spoke with the family; box kept locked", users["clinician"])
    assert len(actions.dispense_takehome(req, ahead(2), users["nurse"])) == 2


def test_a_stricter_standard_in_force_limits_the_bottles(stable, users, monday, ready_request):
    """The police and the CDC move the 4-day tier to day 250 after the approval: the client
    (day 200) now earns 2 days, so 4 bottles are refused and 2 go out."""
    req = ready_request(stable, 4)
    later = default_document("pingan")
    later["tiers"][1]["from_day"] = 250
    version = actions.draft_standard("pingan", json.dumps(later), users["manager"])
    actions.sign_standard(version, users["cdc"])
    actions.sign_standard(version, users["police"])
    with pytest.raises(Refusal, match="now allows 2 days, fewer than 4") as refused:
        actions.dispense_takehome(req, ahead(4), users["nurse"])
    assert "day 200 of treatment: up to 2 days from day 90" in refused.value.message
    nothing_dispensed(stable, req)
    bottles = actions.dispense_takehome(req, ahead(2), users["nurse"])
    assert [b.day for b in bottles] == ahead(2)


def test_no_lapse_dispenses_and_the_page_shows_no_warning(
    stable, users, monday, ready_request, browser_as
):
    req = ready_request(stable, 4)
    page = browser_as("nurse").get(reverse("takehome:request", args=[req.external_id]))
    assert 'id="lapses"' not in page.content.decode()
    assert actions.dispense_lapses(req, clock.today()) == []
    assert len(actions.dispense_takehome(req, ahead(4), users["nurse"])) == 4
