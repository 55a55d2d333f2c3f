"""The lockbox screens and the police's inside/outside query."""

from __future__ import annotations

import pytest
from box_factories import issue, make_client

from pingan.core import clock
from pingan.lockbox import pin, queries
from pingan.lockbox.models import Box, BoxAlert, BoxEvent, HomeGeofence

pytestmark = pytest.mark.django_db


def test_issue_shows_the_secret_once_with_a_qr_code(client_as):
    owner = make_client("V-1")
    web = client_as("clinician")
    response = web.post("/lockbox/issue/", {"client_code": "V-1"})
    assert response.status_code == 200
    box = Box.objects.get(client=owner)
    page = response.content.decode()
    assert box.secret in page and "<svg" in page
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    listing = web.get("/lockbox/").content.decode()
    assert box.label in listing and box.secret not in listing
    again = web.post("/lockbox/issue/", {"client_code": "V-1"})
    assert again.status_code == 400
    assert Box.objects.filter(client=owner).count() == 1


def test_unknown_client_code_is_a_form_error(client_as):
    response = client_as("manager").post("/lockbox/issue/", {"client_code": "NOPE"})
    assert response.status_code == 400
    assert not Box.objects.exists()


def test_retire_needs_a_reason(client_as):
    box, _secret = issue(make_client("V-2"))
    web = client_as("clinician")
    web.post(f"/lockbox/boxes/{box.external_id}/retire/", {"reason": ""})
    box.refresh_from_db()
    assert box.retired_on is None
    web.post(f"/lockbox/boxes/{box.external_id}/retire/", {"reason": "lost"})
    box.refresh_from_db()
    assert box.retired_on == clock.today()


def test_home_area_needs_location_consent_and_is_encrypted(client_as):
    refusing = make_client("V-3")
    web = client_as("clinician")
    response = web.post(
        f"/lockbox/clients/{refusing.external_id}/home-area/",
        {"centre": "22.5,114.0", "radius_m": 300},
    )
    assert response.status_code == 400
    assert not HomeGeofence.objects.exists()
    consenting = make_client("V-4", consents=("box_location",))
    web.post(
        f"/lockbox/clients/{consenting.external_id}/home-area/",
        {"centre": "22.5,114.0", "radius_m": 300},
    )
    fence = HomeGeofence.objects.get(client=consenting)
    assert fence.point() == (22.5, 114.0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT centre FROM lockbox_homegeofence")
        assert "22.5" not in cursor.fetchone()[0]


def test_alerts_can_be_acknowledged(client_as):
    box, _secret = issue(make_client("V-5"))
    event = BoxEvent.objects.create(box=box, seq=0, position=0, type="tamper", at=clock.now())
    alert = BoxAlert.objects.create(box=box, event=event, kind="tamper", at=event.at)
    web = client_as("clinician")
    assert box.label in web.get("/lockbox/alerts/").content.decode()
    web.post(f"/lockbox/alerts/{alert.external_id}/acknowledge/", {"note": "checked"})
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.note == "checked"


def test_police_see_inside_or_outside_only_with_consent():
    consenting = make_client("V-6", consents=("box_location",))
    refusing = make_client("V-7")
    for owner, inside in ((consenting, False), (refusing, True)):
        box, _s = issue(owner)
        BoxEvent.objects.create(
            box=box, seq=0, position=0, type="location", at=clock.now(), inside_geofence=inside
        )
    assert queries.home_status_for_police(consenting) == "outside"
    assert queries.home_status_for_police(refusing) is None


def test_settings_are_the_managers(client_as):
    assert client_as("clinician").get("/lockbox/settings/").status_code == 403


def test_box_issue_command_prints_json_once(capsys):
    import json

    from django.core.management import call_command

    make_client("V-8")
    call_command("box", "issue", "--client", "V-8", "--format", "json")
    printed = json.loads(capsys.readouterr().out)
    box = Box.objects.get(label=printed["box"])
    assert box.secret == printed["secret"]
    assert len(pin.secret_bytes(printed["secret"])) == 20
