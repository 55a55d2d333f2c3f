"""Lists are scoped by the current centre: a nurse of centre A never sees a client of
centre B in the dosing queue, the client list, the take-home queues, the urine-test
worklist, the drop-out worklist or the bed board, and B's client pages answer 404."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing.models import Dose, Prescription
from pingan.inpatient.models import Bed, Room
from pingan.labs.models import ScheduledUrineTest
from pingan.region.models import Membership
from pingan.registry.models import Client, Episode
from pingan.takehome import queries as takehome_queries
from pingan.takehome.models import TakeHomeRequest
from staff_factory import make_user

pytestmark = pytest.mark.django_db


def make_client(code: str, centre: Centre, clinician, last_dose_days_ago: int) -> Client:
    """A client of `centre` in treatment for 30 days on 60 mg, last dosed days ago."""
    today = clock.today()
    client = Client.objects.create(
        centre=centre, code=code, alias=f"alias {code}", sex="M", birth_year=1980
    )
    Episode.objects.create(client=client, enrolled_on=today - timedelta(days=30))
    Prescription.objects.create(
        client=client,
        mg=60,
        start_on=today - timedelta(days=30),
        clinician=clinician,
        reason="induction complete",
    )
    day = today - timedelta(days=last_dose_days_ago)
    Dose.objects.create(
        client=client,
        date=day,
        kind="clinic",
        mg=60,
        mg_in_clinic=60,
        mg_taken_home=0,
        strength_mg_per_ml=Decimal("1"),
        volume_ml=Decimal(60),
        given_at=clock.now() - timedelta(days=last_dose_days_ago),
    )
    return client


@pytest.fixture
def region(users):
    """Centres A and B, each with a client due today, slipping away, due a urine test and
    asking for take-home, and a ward room; staff of every role are members of A only."""
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    today = clock.today()
    standard = takehome_queries.standard_in_force(today)
    clients = {}
    for centre in (a, b):
        for suffix, missed in (("DUE", 1), ("AWAY", 20)):
            client = make_client(f"{centre.code}-{suffix}", centre, users["clinician"], missed)
            clients[f"{centre.code}-{suffix}"] = client
        due = clients[f"{centre.code}-DUE"]
        ScheduledUrineTest.objects.create(client=due, on=today)
        TakeHomeRequest.objects.create(
            client=due,
            kind="regular",
            days_requested=1,
            standard=standard,
            eligibility={},
            requested_on=today - timedelta(days=1),
        )
        room = Room.objects.create(centre=centre, name=f"ROOM-{centre.code}", room_type="private")
        Bed.objects.create(room=room, label="1", in_service_from=today - timedelta(days=10))
    for user in users.values():
        Membership.objects.create(user=user, centre=a)
    return a, b, clients


LISTS = [
    ("dosing:queue", "nurse"),
    ("registry:list", "nurse"),
    ("takehome:index", "clinician"),
    ("labs:schedule", "nurse"),
    ("services:dropouts", "nurse"),
    ("inpatient:board", "nurse"),
]


@pytest.mark.parametrize(("name", "role"), LISTS)
def test_lists_show_only_the_current_centre(client, users, region, name, role):
    client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    page = response.content.decode()
    assert "CB-" not in page and "ROOM-CB" not in page
    expected = "ROOM-CA" if name == "inpatient:board" else "CA-"
    assert expected in page, f"{name} lost centre A's own records"


def test_the_switch_changes_the_lists(client, users, region):
    a, b, _clients = region
    nurse = users["nurse"]
    Membership.objects.create(user=nurse, centre=b)
    client.force_login(nurse, backend="django.contrib.auth.backends.ModelBackend")
    client.post(reverse("region:switch"), {"centre": "CB"})
    page = client.get(reverse("dosing:queue")).content.decode()
    assert "CB-DUE" in page and "CA-DUE" not in page


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("registry:detail", "nurse"),
        ("dosing:client", "nurse"),
        ("labs:client", "nurse"),
        ("takehome:client", "clinician"),
    ],
)
def test_another_centres_client_page_is_not_found(client, users, region, name, role):
    _a, _b, clients = region
    client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
    theirs = reverse(name, args=[clients["CB-DUE"].external_id])
    ours = reverse(name, args=[clients["CA-DUE"].external_id])
    assert client.get(theirs).status_code == 404
    assert client.get(ours).status_code == 200


def test_a_region_user_without_a_centre_sees_no_client(client, users, region):
    stranger = make_user("nurse", "nurse-nowhere")
    client.force_login(stranger, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dosing:queue")).content.decode()
    assert "CA-" not in page and "CB-" not in page
