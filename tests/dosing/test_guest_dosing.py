"""Guest dosing inside one installation: the home centre issues a slip, the host doses the
client on its days within its terms, from its own stock, and the home centre does not."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext
from dosing_factories import make_client

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.dosing import actions, queries, rules
from pingan.dosing.models import Dose, DoseKind, GuestSlip, Hold, StockEntry
from pingan.region.models import Membership
from pingan.registry.models import Client
from staff_factory import make_user

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 5, 4, 9, 0)


@pytest.fixture
def region(clock_at):
    """Home and Host centres, a client of Home on 60 mg, staff of each, stock at each."""
    clock_at(MORNING)
    home = Centre.objects.create(code="HOME", name="Home Centre")
    host = Centre.objects.create(code="HOST", name="Host Centre")
    staff = {
        "clinician": make_user("clinician", "home-doc"),
        "nurse": make_user("nurse", "home-nurse"),
        "host_nurse": make_user("nurse", "host-nurse"),
        "host_doc": make_user("clinician", "host-doc"),
        "manager": make_user("manager", "home-manager"),
    }
    for key in ("clinician", "nurse", "manager"):
        Membership.objects.create(user=staff[key], centre=home)
    for key in ("host_nurse", "host_doc"):
        Membership.objects.create(user=staff[key], centre=host)
    client = make_client("HOME-001", staff["clinician"])
    Client.objects.filter(pk=client.pk).update(centre=home)
    client.refresh_from_db()
    home_stock = actions.product_of(home)
    host_stock = actions.product_of(host)
    actions.receive(home_stock, 1000, "H-1", staff["manager"])
    actions.receive(host_stock, 1000, "G-1", staff["manager"])
    return {"home": home, "host": host, "client": client, **staff}


def issue(region, first=0, last=2, host=None):
    today = clock.today()
    return actions.issue_guest_slip(
        region["client"],
        host or region["host"],
        today + timedelta(days=first),
        today + timedelta(days=last),
        region["clinician"],
    )


def balance(centre) -> Decimal:
    return actions.product_of(centre).entries.order_by("-pk").first().balance_ml


def test_host_doses_a_guest_within_the_slip_and_home_refuses(region, client):
    slip = issue(region)
    assert slip.dose_mg == 60
    c, home, host = region["client"], region["home"], region["host"]

    # Home, on a slip day: refused with the reason, in the action and on the screen.
    refused = actions.record_dose(c, region["nurse"], centre=home)
    assert not refused.ok
    assert [b.code for b in refused.blocks] == ["guest_elsewhere"]
    assert "Host Centre" in refused.message and "2026-05-06" in refused.message
    assert not actions.record_dose(c, region["nurse"]).ok  # no centre named: the home's

    # The home queue shows where the client is and refuses the dose.
    client.force_login(region["nurse"])
    page = client.get(reverse("dosing:queue")).content.decode()
    assert 'data-client="HOME-001"' in page and 'data-block="guest_elsewhere"' in page
    assert 'data-action="dose"' not in page

    # The host's queue lists the guest, marked, with the slip's terms; its page opens.
    client.force_login(region["host_nurse"])
    page = client.get(reverse("dosing:queue")).content.decode()
    assert 'data-client="HOME-001"' in page and "data-guest" in page
    assert "Home Centre" in page and "data-slip" in page
    assert client.get(reverse("dosing:client", args=[c.external_id])).status_code == 200
    assert "HOME-001" in client.get(reverse("dosing:guests")).content.decode()

    # The host doses through the screen: the dose is on the client's one record, given at
    # the host, from the host's stock.
    home_before, host_before = balance(home), balance(host)
    response = client.post(reverse("dosing:dose", args=[c.external_id]), {"mg": "60"})
    assert response.status_code == 302
    dose = Dose.objects.get(client=c, date=clock.today())
    assert (dose.kind, dose.centre_id, dose.mg) == (DoseKind.GUEST, host.pk, 60)
    assert balance(host) == host_before - 60 and balance(home) == home_before
    assert StockEntry.objects.get(dose=dose).product.centre_id == host.pk

    # The home record shows it and counts it: tomorrow nothing is missed.
    facts = queries.client_facts(c, clock.today() + timedelta(days=1))
    assert facts.last_dose_date == clock.today()
    assert (
        rules.dosing_decision(facts, clock.today() + timedelta(days=1), queries.thresholds()).missed
        == 0
    )
    client.force_login(region["nurse"])
    home_page = client.get(reverse("dosing:client", args=[c.external_id]))
    assert 'data-given-at="HOST"' in home_page.content.decode()

    # A second dose the same day is refused everywhere.
    again = actions.record_dose(c, region["host_nurse"], centre=host)
    assert not again.ok and "already_dosed" in [b.code for b in again.blocks]


def test_host_is_refused_outside_the_slip_days_and_above_its_dose(region, client, clock_at):
    c, host = region["client"], region["host"]
    issue(region, first=1, last=2)
    today = clock.today()

    # Before the slip's first day: not a guest yet, and the page is not the host's to see.
    outside = actions.record_dose(c, region["host_nurse"], centre=host)
    assert not outside.ok and [b.code for b in outside.blocks] == ["no_guest_slip"]
    client.force_login(region["host_nurse"])
    assert client.get(reverse("dosing:client", args=[c.external_id])).status_code == 404
    assert 'data-client="HOME-001"' not in client.get(reverse("dosing:queue")).content.decode()

    # The home centre raises the dose for tomorrow: above the slip's 60 mg, the host stops.
    actions.prescribe(c, 70, today + timedelta(days=1), region["clinician"], "craving")
    clock_at(MORNING + timedelta(days=1))
    above = actions.record_dose(c, region["host_nurse"], centre=host)
    assert not above.ok and [b.code for b in above.blocks] == ["above_slip"]
    assert not Dose.objects.filter(client=c, date=clock.today()).exists()

    # After the last day the host is refused again; at home the slip no longer stands in
    # the way (the days missed meanwhile do: the same safety rules everywhere).
    clock_at(MORNING + timedelta(days=3))
    assert client.get(reverse("dosing:client", args=[c.external_id])).status_code == 404
    assert not actions.record_dose(c, region["host_nurse"], centre=host).ok
    home = actions.record_dose(c, region["nurse"], centre=region["home"])
    assert "guest_elsewhere" not in [b.code for b in home.blocks]
    assert "hold" in [b.code for b in home.blocks]


def test_a_hold_placed_at_home_follows_the_client_to_the_host(region):
    issue(region)
    actions.place_hold(region["client"], "other", "seemed unwell", region["clinician"])
    result = actions.record_dose(region["client"], region["host_nurse"], centre=region["host"])
    assert not result.ok and "hold" in [b.code for b in result.blocks]


def test_a_cancelled_slip_gives_the_day_back_to_the_home_centre(region):
    slip = issue(region)
    actions.cancel_guest_slip(slip, region["clinician"], "trip called off")
    assert not actions.record_dose(region["client"], region["host_nurse"], centre=region["host"]).ok
    assert actions.record_dose(region["client"], region["nurse"], centre=region["home"]).ok


def test_issuing_through_the_client_page(region, client):
    client.force_login(region["clinician"])
    url = reverse("dosing:guest_slip_issue", args=[region["client"].external_id])
    today = clock.today()
    ok = client.post(
        url,
        {"host": region["host"].pk, "valid_from": today, "valid_to": today + timedelta(days=6)},
    )
    assert ok.status_code == 302
    assert GuestSlip.objects.get().valid_to == today + timedelta(days=6)
    bad = client.post(
        url,
        {"host": region["host"].pk, "valid_from": today, "valid_to": today + timedelta(days=40)},
    )
    too_long = gettext("A guest slip covers at most %(days)d days; a longer stay is a transfer.")
    assert bad.status_code == 400 and too_long % {"days": 30} in bad.content.decode()
    assert GuestSlip.objects.count() == 1
    # The host, who sees its guest today, cannot issue one for another centre's client.
    client.force_login(region["host_doc"])
    today_only = {"host": region["host"].pk, "valid_from": today, "valid_to": today}
    assert client.post(url, today_only).status_code == 302
    assert GuestSlip.objects.count() == 1


# Bad input: refused with a reason, nothing written ---------------------------------------


def refused_with(region, code, **kw):
    entries = AuditEntry.objects.count()
    slips = GuestSlip.objects.count()
    with pytest.raises(Refusal) as refusal:
        issue(region, **kw)
    assert refusal.value.code == code, refusal.value.message
    assert GuestSlip.objects.count() == slips and AuditEntry.objects.count() == entries
    return refusal.value


def test_open_hold_refuses_a_slip(region):
    Hold.objects.create(client=region["client"], kind="other", reason="unwell")
    refused_with(region, "hold")


def test_more_than_thirty_days_is_refused(region):
    refused_with(region, "span_too_long", first=0, last=30)
    assert issue(region, first=0, last=29).valid_to == clock.today() + timedelta(days=29)


def test_overlapping_slips_are_refused(region):
    issue(region, first=2, last=5)
    assert "2026-05-09" in refused_with(region, "overlap", first=5, last=8).message
    assert issue(region, first=6, last=8)


def test_host_must_be_another_centre(region):
    refused_with(region, "host_is_home", host=region["home"])
    with pytest.raises(Refusal):
        actions.issue_guest_slip(
            region["client"], "HOST", clock.today(), clock.today(), region["clinician"]
        )
    refused_with(region, "past", first=-1, last=1)
    refused_with(region, "span_order", first=3, last=1)
    assert GuestSlip.objects.count() == 0


def test_a_nurse_or_another_centres_clinician_cannot_issue(region):
    with pytest.raises(PermissionDenied):
        actions.issue_guest_slip(
            region["client"], region["host"], clock.today(), clock.today(), region["nurse"]
        )
    with pytest.raises(Refusal):
        actions.issue_guest_slip(
            region["client"], region["host"], clock.today(), clock.today(), region["host_doc"]
        )


def test_the_database_refuses_a_slip_backwards(region):
    """The length (at most 30 days) is the action's check above: a date sum in a CHECK
    would make the SQLite file unreadable outside Django (a backup could not be opened)."""
    today = clock.today()
    base = dict(
        client=region["client"],
        host=region["host"],
        dose_mg=60,
        issued_by=region["clinician"],
        issued_at=clock.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        GuestSlip.objects.create(valid_from=today, valid_to=today - timedelta(days=1), **base)
    GuestSlip.objects.create(valid_from=today, valid_to=today + timedelta(days=29), **base)
