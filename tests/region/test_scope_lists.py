"""The referral, service, recall and lockbox screens are scoped by the current centre: staff
of centre A never see B's records in these lists, B's records opened by URL answer 404, a
police officer's own referrals stay theirs, and the weekly recall draw runs per centre."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from pingan.core import clock
from pingan.core.models import Centre
from pingan.lockbox.models import AlertKind, Box, BoxAlert
from pingan.recalls import actions as recall_actions
from pingan.recalls.models import Recall, RecallDraw
from pingan.referrals import actions as referral_actions
from pingan.referrals.models import CareReferral, Partner, PoliceReferral
from pingan.region.models import Membership
from pingan.registry.models import Client, Episode
from pingan.services.models import Attendance, NaloxoneKit, ServiceSession

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def region(users, clock_at):
    """Centres A and B with one record of every kind each; staff are members of A only.
    On a Monday morning (ISO week 2026-W23)."""
    clock_at(datetime(2026, 6, 1, 10, 0))
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    today = clock.today()
    partner = Partner.objects.create(name="Clinic P", kind="art")
    made = {}
    for centre in (a, b):
        code = centre.code
        person = Client.objects.create(
            centre=centre, code=f"{code}-001", alias=f"alias {code}", sex="M", birth_year=1980
        )
        Episode.objects.create(client=person, enrolled_on=today - timedelta(days=60))
        referral = referral_actions.file_referral(
            officer=users["police"],
            referred_on=today,
            station=f"STATION-{code}",
            person_name=f"Person {code}",
            person_contact="",
            reason="found in the street",
            centre=centre,
        )
        care = CareReferral.objects.create(
            client=person,
            kind="art",
            partner=partner,
            sent_on=today - timedelta(days=20),
            due_by=today - timedelta(days=5),
        )
        session = ServiceSession.objects.create(
            centre=centre,
            kind="counselling",
            date=today,
            staff=users["nurse"],
            topic=f"TOPIC-{code}",
        )
        Attendance.objects.create(session=session, client=person)
        kit = NaloxoneKit.objects.create(
            client=person, handed_on=today - timedelta(days=10), by=users["nurse"]
        )
        recall = Recall.objects.create(client=person, made_at=clock.now())
        box = Box.objects.create(
            centre=centre, label=f"BOX-{code}", client=person, secret="0" * 40, issued_on=today
        )
        alert = BoxAlert.objects.create(
            box=box, kind=AlertKind.NOT_OPENED, day=today, at=clock.now()
        )
        made[code] = {
            "client": person,
            "referral": referral,
            "care": care,
            "session": session,
            "kit": kit,
            "recall": recall,
            "box": box,
            "alert": alert,
        }
    for user in users.values():
        if user.username != "police1":
            Membership.objects.create(user=user, centre=a)
    return a, b, made


LISTS = [
    ("referrals:inbox", "manager", "STATION-CA", "STATION-CB"),
    ("referrals:worklist", "clinician", "CA-001", "CB-001"),
    ("services:sessions", "nurse", "TOPIC-CA", "TOPIC-CB"),
    ("services:naloxone", "nurse", "CA-001", "CB-001"),
    ("recalls:list", "clinician", "CA-001", "CB-001"),
    ("lockbox:list", "manager", "BOX-CA", "BOX-CB"),
    ("lockbox:alerts", "manager", "BOX-CA", "BOX-CB"),
]


@pytest.mark.parametrize(("name", "role", "ours", "theirs"), LISTS)
def test_lists_show_only_the_current_centre(client, users, region, name, role, ours, theirs):
    client.force_login(users[role], backend=BACKEND)
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    page = response.content.decode()
    assert theirs not in page, f"{name} shows centre B's record"
    assert ours in page, f"{name} lost centre A's own record"


def _pages(made: dict) -> list[tuple[str, str, str]]:
    """(method, url, role) for every page that opens one record."""
    return [
        ("get", reverse("referrals:detail", args=[made["referral"].external_id]), "manager"),
        ("get", reverse("referrals:client", args=[made["client"].external_id]), "clinician"),
        (
            "post",
            reverse("referrals:care_complete", args=[made["care"].external_id]),
            "clinician",
        ),
        ("get", reverse("services:session", args=[made["session"].external_id]), "nurse"),
        ("post", reverse("services:kit_follow_up", args=[made["kit"].external_id]), "nurse"),
        ("post", reverse("recalls:phoned", args=[made["recall"].external_id]), "clinician"),
        ("get", reverse("recalls:return", args=[made["recall"].external_id]), "nurse"),
        (
            "post",
            reverse("recalls:recall_client", args=[made["client"].external_id]),
            "clinician",
        ),
        ("post", reverse("lockbox:retire", args=[made["box"].external_id]), "manager"),
        ("get", reverse("lockbox:geofence", args=[made["client"].external_id]), "manager"),
        ("post", reverse("lockbox:acknowledge", args=[made["alert"].external_id]), "manager"),
    ]


def test_another_centres_records_are_not_found(client, users, region):
    _a, _b, made = region
    for method, url, role in _pages(made["CB"]):
        client.force_login(users[role], backend=BACKEND)
        assert getattr(client, method)(url).status_code == 404, url
    for method, url, role in _pages(made["CA"]):
        client.force_login(users[role], backend=BACKEND)
        assert getattr(client, method)(url).status_code in (200, 302), url


def test_the_police_officer_keeps_every_referral_of_their_own(client, users, region):
    client.force_login(users["police"], backend=BACKEND)
    page = client.get(reverse("referrals:mine")).content.decode()
    assert "STATION-CA" in page and "STATION-CB" in page


def test_linking_reads_only_the_referrals_centre(client, users, region):
    _a, _b, made = region
    client.force_login(users["manager"], backend=BACKEND)
    referral = made["CA"]["referral"]
    client.post(reverse("referrals:link", args=[referral.external_id]), {"code": "CB-001"})
    referral.refresh_from_db()
    assert referral.client_id is None


def test_the_weekly_draw_runs_per_centre(users, region):
    a, b, _made = region
    Recall.objects.all().delete()
    first = recall_actions.draw_week(None, users["clinician"], centre=a)
    second = recall_actions.draw_week(None, users["clinician"], centre=b)
    assert first.draw.centre == a and second.draw.centre == b
    assert first.draw.week == second.draw.week
    with pytest.raises(ValidationError) as refused:
        recall_actions.draw_week(None, users["clinician"], centre=a)
    assert refused.value.code == "already_drawn"


def test_the_draw_command_draws_each_centre(region, capsys):
    Recall.objects.all().delete()
    call_command("recalls", "draw")
    out = capsys.readouterr().out
    assert "centre CA" in out and "centre CB" in out
    assert set(RecallDraw.objects.values_list("centre__code", flat=True)) == {"CA", "CB"}
    call_command("recalls", "draw", "--centre", "CA")
    assert "2026-W23" in capsys.readouterr().out
    assert RecallDraw.objects.count() == 2


def test_the_eligibility_list_of_one_centre(region, capsys):
    call_command("eligibility", "--format", "json", "--centre", "ca")
    listed = capsys.readouterr().out
    assert "CA-001" in listed and "CB-001" not in listed
    call_command("eligibility", "--format", "json")
    listed = capsys.readouterr().out
    assert "CA-001" in listed and "CB-001" in listed


def test_the_officer_chooses_the_centre_in_a_region(client, users, region):
    a, b, _made = region
    client.force_login(users["police"], backend=BACKEND)
    form = {
        "referred_on": clock.today().isoformat(),
        "station": "STATION-X",
        "person_name": "Person X",
        "reason": "found in the street",
    }
    response = client.post(reverse("referrals:file"), form)
    assert response.status_code == 400  # no centre chosen: nothing written
    assert not PoliceReferral.objects.filter(station="STATION-X").exists()
    client.post(reverse("referrals:file"), {**form, "centre": "CB"})
    assert PoliceReferral.objects.get(station="STATION-X").centre == b
