"""A client moves for good to another centre of the region: with their consent, by a
clinician of their centre, in one transaction that closes the episode here, opens one there,
moves the record and audits both sides. A refusal writes nothing (docs/region.md,
"Transfers")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden
from pingan.core.models import Centre
from pingan.dosing.models import Dose, GuestSlip, Prescription
from pingan.lockbox.models import Box
from pingan.region.models import Membership
from pingan.registry.actions import transfer_client
from pingan.registry.models import Client, DischargeReason, Episode, Transfer
from pingan.takehome.models import BottleStatus, TakeHomeBottle
from staff_factory import make_user

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)
DOSED_ON = TODAY - timedelta(days=3)


@pytest.fixture
def region(clock_at):
    clock_at(datetime(2026, 12, 2, 10, 0))
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    staff = {}
    for centre in (a, b):
        user = make_user("clinician", f"clin-{centre.code}")
        Membership.objects.create(user=user, centre=centre)
        staff[centre.code] = user
    nurse = make_user("nurse", "nurse-CA")
    Membership.objects.create(user=nurse, centre=a)
    client = Client.objects.create(
        centre=a, code="PA2345", alias="Lao Wang", sex="M", birth_year=1975
    )
    Episode.objects.create(client=client, enrolled_on=TODAY - timedelta(days=60))
    Prescription.objects.create(
        client=client,
        mg=60,
        start_on=TODAY - timedelta(days=60),
        clinician=staff["CA"],
        reason="induction complete",
    )
    Dose.objects.create(
        client=client,
        date=DOSED_ON,
        kind="clinic",
        mg=60,
        mg_in_clinic=60,
        mg_taken_home=0,
        strength_mg_per_ml=Decimal("1"),
        volume_ml=Decimal(60),
        given_at=clock.now() - timedelta(days=3),
    )
    return {"a": a, "b": b, "staff": staff, "nurse": nurse, "client": client}


def web_as(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.post("/i18n/setlang/", {"language": "en"})
    return client


def rows() -> dict[str, int]:
    """Every kind of row a transfer writes, counted."""
    return {
        "episodes": Episode.objects.count(),
        "open": Episode.objects.filter(discharged_on__isnull=True).count(),
        "transfers": Transfer.objects.count(),
        "audit": AuditEntry.objects.filter(action__startswith="client_transferred").count(),
        "at_a": Client.objects.filter(centre__code="CA").count(),
    }


def move(region, **changes):
    args = {
        "client": region["client"],
        "to_centre": region["b"],
        "consent_on": TODAY,
        "reason": "moved to the east side for work",
        "by": region["staff"]["CA"],
    }
    args.update(changes)
    return transfer_client(**args)


def test_a_transfer_moves_the_client_and_keeps_the_history(region):
    moved = move(region)
    person = Client.objects.get(pk=region["client"].pk)
    assert person.centre == region["b"]
    closed, opened = Episode.objects.filter(client=person).order_by("enrolled_on")
    assert closed.centre == region["a"] and closed.discharged_on == TODAY
    assert closed.discharge_reason == DischargeReason.TRANSFERRED and "CB" in closed.discharge_note
    assert opened.centre == region["b"] and opened.enrolled_on == TODAY and opened.is_open
    assert (moved.from_centre, moved.to_centre, moved.by) == (
        region["a"],
        region["b"],
        region["staff"]["CA"],
    )
    assert moved.consent_recorded_on == TODAY and moved.at == clock.now()
    out = AuditEntry.objects.get(action="client_transferred_out")
    came = AuditEntry.objects.get(action="client_transferred_in")
    # Each side is written in its own centre's audit chain.
    assert (out.centre, came.centre) == (region["a"], region["b"])
    for entry in (out, came):
        assert entry.client_code == "PA2345"
        assert entry.detail["from_centre"] == "CA" and entry.detail["to_centre"] == "CB"


def test_old_centre_loses_the_client_and_new_centre_sees_the_doses(region, client):
    pages = [
        "registry:detail",
        "dosing:client",
    ]
    move(region)
    external_id = region["client"].external_id
    web = web_as(client, region["staff"]["CA"])
    for name in pages:
        assert web.get(reverse(name, args=[external_id])).status_code == 404
    web = web_as(client, region["staff"]["CB"])
    for name in pages:
        assert web.get(reverse(name, args=[external_id])).status_code == 200
    dosing = web.get(reverse("dosing:client", args=[external_id])).content.decode()
    assert DOSED_ON.isoformat() in dosing and "No doses yet." not in dosing
    record = web.get(reverse("registry:detail", args=[external_id])).content.decode()
    assert 'data-episode-centre="CA"' in record and 'data-episode-centre="CB"' in record


@pytest.mark.parametrize(
    ("setup", "changes", "code"),
    [
        (None, {"consent_on": None}, "consent"),
        (None, {"consent_on": TODAY + timedelta(days=1)}, "consent"),
        (None, {"to_centre": "a"}, "same_centre"),
        ("discharged", {}, "no_episode"),
        ("slip", {}, "guest_slip"),
        ("future_slip", {}, "guest_slip"),
        ("box", {}, "box"),
        ("code_taken", {}, "code_taken"),
        (None, {"reason": "  "}, "reason"),
        (None, {"by": "CB"}, "not_member"),
    ],
)
def test_a_refusal_writes_nothing(region, setup, changes, code):
    person = region["client"]
    if setup == "discharged":
        Episode.objects.filter(client=person).update(
            discharged_on=TODAY - timedelta(days=1), discharge_reason="moved"
        )
    elif setup in ("slip", "future_slip"):
        first = TODAY if setup == "slip" else TODAY + timedelta(days=5)
        GuestSlip.objects.create(
            client=person,
            host=region["b"],
            valid_from=first,
            valid_to=first + timedelta(days=3),
            dose_mg=60,
            issued_by=region["staff"]["CA"],
            issued_at=clock.now(),
        )
    elif setup == "box":
        Box.objects.create(
            centre=region["a"], label="BOX-7", client=person, secret="0" * 40, issued_on=TODAY
        )
    elif setup == "code_taken":
        Client.objects.create(
            centre=region["b"], code=person.code, alias="other", sex="F", birth_year=1980
        )
    if changes.get("to_centre") == "a":
        changes["to_centre"] = region["a"]
    if changes.get("by") == "CB":
        changes["by"] = region["staff"]["CB"]
    before = rows()
    with pytest.raises(ValidationError) as refused:
        move(region, **changes)
    assert refused.value.code == code
    assert rows() == before
    assert Client.objects.get(pk=person.pk).centre == region["a"]


def test_past_and_cancelled_slips_and_a_retired_box_do_not_stop_it(region):
    person = region["client"]
    GuestSlip.objects.create(
        client=person,
        host=region["b"],
        valid_from=TODAY - timedelta(days=10),
        valid_to=TODAY - timedelta(days=5),
        dose_mg=60,
        issued_by=region["staff"]["CA"],
        issued_at=clock.now(),
    )
    GuestSlip.objects.create(
        client=person,
        host=region["b"],
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=2),
        dose_mg=60,
        issued_by=region["staff"]["CA"],
        issued_at=clock.now(),
        cancelled_at=clock.now(),
    )
    Box.objects.create(
        centre=region["a"],
        label="BOX-8",
        client=person,
        secret="0" * 40,
        issued_on=TODAY - timedelta(days=30),
        retired_on=TODAY - timedelta(days=1),
    )
    move(region)
    assert Client.objects.get(pk=person.pk).centre == region["b"]


def bottle(person, day, status=BottleStatus.DISPENSED):
    return TakeHomeBottle.objects.create(client=person, day=day, mg=60, status=status)


def test_take_home_bottles_still_out_refuse_it_with_their_count_and_write_nothing(region):
    person = region["client"]
    bottle(person, TODAY + timedelta(days=1))
    bottle(person, TODAY + timedelta(days=2))
    before = rows()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        move(region)
    assert refused.value.code == "bottles"
    assert "2 take-home bottles are still out" in refused.value.messages[0]
    assert rows() == before
    assert Client.objects.get(pk=person.pk).centre == region["a"]


def test_one_bottle_out_is_named_in_the_singular_and_in_chinese(region):
    bottle(region["client"], TODAY + timedelta(days=1))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        move(region)
    assert "1 take-home bottle is still out" in refused.value.messages[0]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        move(region)
    assert "1 个带药回家药瓶" in refused.value.messages[0]
    assert Transfer.objects.count() == 0


def test_returned_or_missing_bottles_and_another_clients_bottle_do_not_stop_it(region):
    person = region["client"]
    bottle(person, TODAY - timedelta(days=2), status=BottleStatus.RETURNED)
    bottle(person, TODAY - timedelta(days=1), status=BottleStatus.MISSING)
    other = Client.objects.create(
        centre=region["a"], code="PA9876", alias="Lao Li", sex="M", birth_year=1970
    )
    bottle(other, TODAY + timedelta(days=1))
    move(region)
    assert Client.objects.get(pk=person.pk).centre == region["b"]
    assert Client.objects.get(pk=other.pk).centre == region["a"]


def test_a_bottle_taken_back_lets_the_transfer_through(region):
    person = region["client"]
    out = bottle(person, TODAY + timedelta(days=1))
    with pytest.raises(ValidationError):
        move(region)
    out.status, out.returned_at = BottleStatus.RETURNED, clock.now()
    out.save(update_fields=["status", "returned_at"])
    move(region)
    assert Client.objects.get(pk=person.pk).centre == region["b"]


def test_a_nurse_may_not_transfer(region, client):
    before = rows()
    with pytest.raises(Forbidden):
        move(region, by=region["nurse"])
    web = web_as(client, region["nurse"])
    url = reverse("registry:transfer", args=[region["client"].external_id])
    assert web.get(url).status_code == 403
    assert web.post(url, {"to_centre": region["b"].pk, "confirmed": "1"}).status_code == 403
    assert rows() == before


def test_the_screen_confirms_then_transfers_and_the_old_centre_lists_it(region, client):
    person = region["client"]
    web = web_as(client, region["staff"]["CA"])
    dosing = web.get(reverse("dosing:client", args=[person.external_id])).content.decode()
    url = reverse("registry:transfer", args=[person.external_id])
    assert f'href="{url}"' in dosing
    form = web.get(url).content.decode()
    assert "Centre B (CB)" in form and "Centre A (CA)" not in form
    data = {
        "to_centre": region["b"].pk,
        "consent_on": TODAY.isoformat(),
        "consent": "on",
        "reason": "moved to the east side for work",
    }
    confirm = web.post(url, data)
    assert confirm.status_code == 200 and "data-confirm" in confirm.content.decode()
    assert Transfer.objects.count() == 0
    done = web.post(url, {**data, "confirmed": "1"}, follow=True)
    page = done.content.decode()
    assert "was transferred to centre Centre B (CB)" in page
    assert Client.objects.get(pk=person.pk).centre == region["b"]
    listing = web.get(reverse("registry:transfers_out")).content.decode()
    assert 'data-transfer="PA2345"' in listing and "clin-CA" in listing
    assert reverse("registry:transfers_out") in web.get(reverse("registry:list")).content.decode()
    # The new centre's list of transfers out does not show it.
    web_b = web_as(client, region["staff"]["CB"])
    assert (
        'data-transfer="PA2345"'
        not in web_b.get(reverse("registry:transfers_out")).content.decode()
    )


def test_the_screen_refuses_without_consent_in_the_users_language(region, client):
    person = region["client"]
    web = web_as(client, region["staff"]["CA"])
    web.post("/i18n/setlang/", {"language": "zh-hans"})
    url = reverse("registry:transfer", args=[person.external_id])
    before = rows()
    answer = web.post(
        url,
        {
            "to_centre": region["b"].pk,
            "consent_on": TODAY.isoformat(),
            "reason": "搬家",
            "confirmed": "1",
        },
    )
    assert answer.status_code == 200
    assert "必须记录服务对象对转中心的同意" in answer.content.decode()
    assert rows() == before


def test_no_link_with_a_single_centre(clock_at, client):
    clock_at(datetime(2026, 12, 2, 10, 0))
    only = Centre.objects.create(code="C1", name="Only")
    clinician = make_user("clinician", "clin-1")
    person = Client.objects.create(centre=only, code="PA7777", alias="x", sex="M", birth_year=1980)
    Episode.objects.create(client=person, enrolled_on=TODAY)
    web = web_as(client, clinician)
    page = web.get(reverse("dosing:client", args=[person.external_id])).content.decode()
    assert "data-transfer" not in page


def test_the_command_transfers_and_refuses(region):
    out = StringIO()
    base = ["transfer", "--client", "PA2345", "--consent-on", TODAY.isoformat()]
    base += ["--reason", "moved", "--by", "clin-CA"]
    before = rows()
    with pytest.raises(CommandError, match="已属于该中心"):
        call_command(*base, "--to", "CA", stdout=out)
    with pytest.raises(CommandError, match="No centre"):
        call_command(*base, "--to", "ZZ", stdout=out)
    assert rows() == before
    call_command(*base, "--to", "CB", stdout=out)
    assert out.getvalue().split() == ["PA2345", "CA", "CB", TODAY.isoformat()]
    assert Client.objects.get(code="PA2345").centre == region["b"]
    assert Transfer.objects.count() == 1
