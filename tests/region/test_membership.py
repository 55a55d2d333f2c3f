"""Staff belong to centres and work in one at a time; the header shows it and switches it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core.models import Centre
from pingan.region.current import SESSION_KEY, choose, current_centre
from pingan.region.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_centres():
    return (
        Centre.objects.create(code="C01", name="East Centre"),
        Centre.objects.create(code="C02", name="West Centre"),
    )


def test_a_user_without_membership_works_in_the_only_centre(users):
    centre = Centre.current()
    assert choose(users["nurse"], None) == centre
    request = RequestFactory().get("/")
    request.user = users["nurse"]
    request.session = {}
    assert current_centre(request) == centre


def test_no_centre_yet_creates_it_as_before(users):
    assert not Centre.objects.exists()
    assert choose(users["nurse"], None) == Centre.objects.get()


def test_several_centres_and_no_membership_means_no_centre(users, two_centres):
    assert choose(users["nurse"], None) is None


def test_the_first_membership_is_the_default_and_the_session_chooses(users, two_centres):
    east, west = two_centres
    nurse = users["nurse"]
    Membership.objects.create(user=nurse, centre=west)
    Membership.objects.create(user=nurse, centre=east)
    assert choose(nurse, None) == west
    assert choose(nurse, east.pk) == east
    stranger = Centre.objects.create(code="C03", name="North Centre")
    assert choose(nurse, stranger.pk) == west  # a centre not one's own is never chosen


def test_membership_is_once_per_centre(users, two_centres):
    Membership.objects.create(user=users["nurse"], centre=two_centres[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=users["nurse"], centre=two_centres[0])


def test_header_shows_the_centre_on_every_page(client_as):
    centre = Centre.current()
    page = client_as("nurse").get(reverse("dosing:queue")).content.decode()
    assert f'data-centre="{centre.code}"' in page and centre.name in page


def test_switching_is_audited_and_kept_in_the_session(client_as, users, two_centres):
    east, west = two_centres
    for centre in two_centres:
        Membership.objects.create(user=users["nurse"], centre=centre)
    web = client_as("nurse")
    page = web.get(reverse("dosing:queue")).content.decode()
    assert 'action="/region/switch/"' in page and "West Centre" in page
    response = web.post(reverse("region:switch"), {"centre": "C02", "next": "/dosing/queue/"})
    assert response.status_code == 302 and response["Location"] == "/dosing/queue/"
    assert web.session[SESSION_KEY] == west.pk
    entry = AuditEntry.objects.get(action="centre_switch")
    assert entry.username == "nurse1" and entry.target == "C02"
    assert '<option value="C02" selected>' in web.get(reverse("dosing:queue")).content.decode()


def test_switching_to_a_centre_not_ones_own_is_refused(client_as, users, two_centres):
    east, _west = two_centres
    Membership.objects.create(user=users["nurse"], centre=east)
    web = client_as("nurse")
    web.get("/")
    with translation.override("zh-hans"):
        response = web.post(
            reverse("region:switch"), {"centre": "C02"}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    text = response.content.decode()
    assert "您不是该中心的成员" in text
    assert web.session.get(SESSION_KEY) is None
    assert not AuditEntry.objects.filter(action="centre_switch").exists()


def test_an_outside_next_is_not_followed(client_as, users, two_centres):
    Membership.objects.create(user=users["nurse"], centre=two_centres[0])
    response = client_as("nurse").post(
        reverse("region:switch"), {"centre": "C01", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
