"""The police officer's start page: their real tasks (refer a person with the station filled
in, their referrals, the record checks waiting, the shared indicators), nothing clinical."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.urls import reverse

from pingan.referrals.models import PoliceReferral

pytestmark = pytest.mark.django_db


def _referral(officer, station: str, on: date) -> None:
    PoliceReferral.objects.create(
        referred_on=on,
        station=station,
        officer=officer,
        person_name="x",
        name_index=f"{station}{on}",
        reason="r",
    )


def test_the_home_lists_the_officers_tasks(client_as, users, clock_at):
    clock_at(datetime(2026, 3, 18, 10, 0))
    _referral(users["police"], "Old station", date(2026, 2, 1))
    _referral(users["police"], "Hongta station", date(2026, 3, 2))
    web = client_as("police")
    web.cookies["django_language"] = "en"
    response = web.get(reverse("home"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("police_home")
    tasks = ("referrals:file", "referrals:mine", "takehome:checks", "indicators:dashboard")
    for link in (*tasks, "recall_summary"):
        assert f'href="{reverse(link)}"' in html, link
    assert "2 referrals in all" in html and "1 this month" in html
    assert "Hongta station" in html
    assert "being added" not in html


def test_the_referral_form_has_the_officers_last_station(client_as, users, clock_at):
    clock_at(datetime(2026, 3, 18, 10, 0))
    _referral(users["police"], "Hongta station", date(2026, 3, 2))
    html = client_as("police").get(reverse("referrals:file")).content.decode()
    assert 'name="station"' in html and 'value="Hongta station"' in html


def test_the_old_address_still_leads_there(client_as):
    response = client_as("police").get(reverse("accounts:police_home"))
    assert response.status_code == 302 and response.url == reverse("police_home")
