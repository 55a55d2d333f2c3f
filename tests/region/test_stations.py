"""Police stations: an officer's station is a fixed attribute of the account (not typed on
each referral), and an officer posted to the bureau sees every station's referral figures,
suppressed as on every police screen, and every referral without the person referred."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.core.domain import operator
from pingan.indicators.definitions import BY_ID, Period
from pingan.indicators.modules import compute
from pingan.referrals import actions as referral_actions
from pingan.referrals.models import PoliceReferral
from pingan.region import actions
from pingan.region.models import OfficerPost, PoliceStation
from staff_factory import make_user

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
TODAY = date(2026, 6, 15)


@pytest.fixture
def bureau(clock_at):
    """Two stations, an officer at each, one at the bureau; 6 referrals from the first
    station and 2 from the second this month."""
    clock_at(datetime(2026, 6, 15, 10, 0))
    with operator():
        north = actions.add_station("PS01", "城北派出所")
        south = actions.add_station("PS02", "城南派出所")
        officers = {
            "north": make_user("police", "officer-north"),
            "south": make_user("police", "officer-south"),
            "chief": make_user("police", "officer-bureau"),
        }
        actions.assign_post("officer-north", "PS01")
        actions.assign_post("officer-south", "PS02")
        actions.assign_post("officer-bureau", None)
    for who, n in (("north", 6), ("south", 2)):
        for i in range(n):
            referral_actions.file_referral(
                officer=officers[who],
                referred_on=TODAY - timedelta(days=i),
                station="typed by hand",
                person_name=f"张{who}{i}",
                person_contact="",
                reason="在街上发现",
            )
    return {**officers, "stations": {"north": north, "south": south}}


def test_a_posted_officer_files_from_their_station_whatever_is_typed(bureau):
    rows = PoliceReferral.objects.filter(officer=bureau["north"])
    assert rows.count() == 6
    assert {(r.station, r.police_station.code) for r in rows} == {("城北派出所", "PS01")}


def test_the_referral_form_shows_the_station_without_letting_it_be_typed(bureau, client):
    client.force_login(bureau["south"], backend=BACKEND)
    page = client.get(reverse("referrals:file")).content.decode()
    assert "城南派出所" in page and "disabled" in page
    response = client.post(
        reverse("referrals:file"),
        {
            "referred_on": TODAY.isoformat(),
            "station": "somewhere else",
            "person_name": "李四",
            "reason": "在街上发现",
        },
    )
    assert response.status_code == 302
    latest = PoliceReferral.objects.filter(officer=bureau["south"]).order_by("-pk").first()
    assert (latest.station, latest.police_station.code) == ("城南派出所", "PS02")


def test_the_station_figures_are_the_referral_indicators_cut_by_station(bureau):
    period = Period(2026, 6)
    counted = {
        code: compute(
            BY_ID["police_referrals"], period, station_id=bureau["stations"][code].pk
        ).numerator
        for code in ("north", "south")
    }
    assert counted == {"north": 6, "south": 2}
    assert compute(BY_ID["police_referrals"], period).numerator == 8


def test_the_bureau_sees_every_station_with_small_cells_hidden_and_no_person(bureau, client):
    client.force_login(bureau["chief"], backend=BACKEND)
    home = client.get(reverse("police_home")).content.decode()
    assert reverse("station_summary") in home
    page = client.get(reverse("station_summary"), {"month": "2026-06"}).content.decode()
    assert 'data-station="PS01"' in page and 'data-station="PS02"' in page
    north = page.split('data-station="PS01"')[1].split("</tr>")[0]
    south = page.split('data-station="PS02"')[1].split("</tr>")[0]
    assert '<td class="num" data-figure="police_referrals">6</td>' in north
    assert "badge warn" in south.split('data-figure="police_referrals"')[1].split("</td>")[0]
    assert "城北派出所" in page and "officer-north" in page
    for i in range(6):
        assert f"张north{i}" not in page
    assert AuditEntry.objects.filter(action="referral_list_read", target="bureau:stations").exists()


def test_a_station_officer_and_an_unposted_officer_do_not_open_the_bureau_page(bureau, client):
    unposted = make_user("police", "officer-unposted")
    for officer in (bureau["north"], unposted):
        client.force_login(officer, backend=BACKEND)
        assert client.get(reverse("station_summary")).status_code == 404
        assert reverse("station_summary") not in client.get(reverse("police_home")).content.decode()


def test_a_month_that_cannot_be_read_is_said_and_this_month_shown(bureau, client):
    client.force_login(bureau["chief"], backend=BACKEND)
    response = client.get(reverse("station_summary"), {"month": "2026-13"}, follow=True)
    assert response.status_code == 200
    assert 'value="2026-06"' in response.content.decode()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_posting_is_refused_for_a_non_officer_an_unknown_station_or_without_the_right(bureau):
    nurse = make_user("nurse", "nurse-1")
    with operator():
        for attempt, code in (
            (lambda: actions.assign_post("nurse-1", "PS01"), "not_police"),
            (lambda: actions.assign_post("officer-north", "PS99"), "no_station"),
            (lambda: actions.add_station("ps 3", "x"), "bad_code"),
            (lambda: actions.add_station("PS01", "again"), "duplicate"),
            (lambda: actions.add_station("PS04", " "), "no_name"),
        ):
            with pytest.raises(ValidationError) as refused:
                attempt()
            assert refused.value.code == code
    assert not OfficerPost.objects.filter(user=nurse).exists()
    assert OfficerPost.objects.get(user=bureau["north"]).station.code == "PS01"
    assert PoliceStation.objects.count() == 2


def test_adding_a_station_and_posting_an_officer_are_audited(bureau):
    added = AuditEntry.objects.filter(action="station_added").values_list("target", flat=True)
    assert sorted(added) == ["PS01", "PS02"]
    posts = AuditEntry.objects.filter(action="officer_posted")
    assert {(e.target, e.detail["station"]) for e in posts} == {
        ("officer-north", "PS01"),
        ("officer-south", "PS02"),
        ("officer-bureau", ""),
    }


def test_the_stations_command(bureau, capsys):
    call_command("stations", "add", "--code", "PS03", "--name", "开发区派出所")
    call_command("stations", "post", "--user", "officer-north", "--station", "PS03")
    capsys.readouterr()
    call_command("stations", "--format", "json")
    listed = json.loads(capsys.readouterr().out)
    assert [(s["code"], s["officers"]) for s in listed] == [("PS01", 0), ("PS02", 1), ("PS03", 1)]
    with pytest.raises(CommandError, match="NOPE"):
        call_command("stations", "post", "--user", "officer-north", "--station", "NOPE")
    assert OfficerPost.objects.get(user=bureau["north"]).station.code == "PS03"
