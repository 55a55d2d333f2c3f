"""Appointments (docs/outreach.md, "Appointments"): set from the client's page or the
drop-out worklist for today or a later day, audited; a past day, an unknown kind or a day
that is not a date is refused with a clear message in the user's language and nothing is
written; done or cancelled once; the police never reach them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.core.domain import Forbidden
from pingan.registry.models import Client, Episode
from pingan.services import actions
from pingan.services.models import Appointment

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)


@pytest.fixture
def person(clock_at):
    clock_at(datetime(2026, 6, 10, 10, 0))
    client = Client.objects.create(code="YX-000007", alias="小周", sex="M", birth_year=1981)
    Episode.objects.create(client=client, enrolled_on=TODAY - timedelta(days=90))
    return client


def _page(client) -> str:
    return reverse("services:appointments", args=[client.external_id])


def test_a_nurse_sets_an_appointment_from_the_client_page(person, client_as):
    web = client_as("nurse")
    response = web.post(
        _page(person),
        {"on": (TODAY + timedelta(days=2)).isoformat(), "kind": "review", "note": "missed 3 days"},
    )
    assert response.status_code == 302 and response["Location"] == _page(person)
    item = Appointment.objects.get()
    assert (item.client, item.on, item.kind, item.note, item.state) == (
        person,
        TODAY + timedelta(days=2),
        "review",
        "missed 3 days",
        "planned",
    )
    assert item.created_by.username == "nurse1"
    entry = AuditEntry.objects.get(action="appointment_made")
    assert entry.client_code == "YX-000007" and entry.detail["kind"] == "review"
    listing = web.get(_page(person)).content.decode()
    assert 'data-appointment="review"' in listing and "missed 3 days" in listing


def test_today_is_allowed(person, users):
    item = actions.make_appointment(person, on=TODAY, kind="urine", note="", user=users["nurse"])
    assert item.on == TODAY


@pytest.mark.parametrize(
    ("typed", "field", "english", "chinese"),
    [
        ({"on": "2026-06-09", "kind": "review"}, "on", "is in the past", "已经过去"),
        (
            {"on": "2026-06-11", "kind": "x-ray"},
            "kind",
            "Choose what the appointment is for",
            "请选择预约事项",
        ),
        ({"on": "next week", "kind": "review"}, "on", "is not a date", "不是日期"),
        ({"on": "", "kind": "review"}, "on", "Enter the day", "请输入预约日期"),
        ({"on": "2027-07-01", "kind": "review"}, "on", "within a year", "一年之内"),
        ({"on": "2026-06-11", "kind": "lab", "note": "x" * 301}, "note", "300 characters", "300"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_written(
    person, client_as, typed, field, english, chinese
):
    web = client_as("nurse")
    response = web.post(_page(person), typed, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert english in " ".join(response.context["form"].errors[field])
    zh = web.post(_page(person), typed, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 400 and chinese in zh.content.decode()
    assert not Appointment.objects.exists()
    assert not AuditEntry.objects.filter(action="appointment_made").exists()


def test_every_problem_is_named_at_once(person, users):
    with pytest.raises(Exception) as refused:
        actions.make_appointment(person, on="2026-01-01", kind="", note="", user=users["nurse"])
    assert set(refused.value.message_dict) == {"on", "kind"}


def test_done_or_cancelled_once_and_audited(person, client_as, users):
    item = actions.make_appointment(
        person, on=TODAY + timedelta(days=1), kind="counselling", note="", user=users["nurse"]
    )
    web = client_as("clinician")
    close = reverse("services:appointment_close", args=[item.external_id])
    assert web.post(close, {"state": "done"}).status_code == 302
    item.refresh_from_db()
    assert item.state == "done" and item.closed_by == users["clinician"] and item.closed_at
    web.post(close, {"state": "cancelled"}, HTTP_ACCEPT_LANGUAGE="en")
    item.refresh_from_db()
    assert item.state == "done"  # a closed appointment stays as it was
    assert AuditEntry.objects.filter(action="appointment_closed").count() == 1
    web.post(reverse("services:appointment_close", args=[item.external_id]), {"state": "maybe"})
    assert AuditEntry.objects.filter(action="appointment_closed").count() == 1


def test_the_police_never_reach_appointments(person, client_as, users):
    web = client_as("police")
    assert web.get(_page(person)).status_code == 403
    response = web.post(_page(person), {"on": TODAY.isoformat(), "kind": "review"})
    assert response.status_code == 403
    assert not Appointment.objects.exists()
    with pytest.raises(Forbidden):
        actions.make_appointment(person, on=TODAY, kind="review", note="", user=users["police"])


def test_the_drop_out_worklist_links_to_the_clients_appointments(person, client_as):
    response = client_as("nurse").get(reverse("services:dropouts"))
    assert f'href="{_page(person)}"' in response.content.decode()
