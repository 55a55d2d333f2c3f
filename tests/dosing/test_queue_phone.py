"""The nurse's queue as a day at a glance: the counts, and the badges other apps put on a
row (today's random urine test, an appointment on its day, a suspended take-home), and a
dose button whose accessible name says whom it doses (docs/architecture.md, "Layers": the
badges reach dosing through `dosing.badges`, registered by ops)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils.translation import override
from dosing_factories import make_client, past_dose, stocked

from pingan.core import clock
from pingan.dosing import badges, queries
from pingan.labs.models import ScheduledUrineTest, UrineSample
from pingan.services import actions as service_actions
from pingan.takehome import actions as takehome_actions

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 10)  # a Tuesday
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def day(clock_at, users):
    clock_at(datetime(2026, 3, 10, 9, 30))
    stocked(1000, users["manager"])
    return DAY


def _rows(html: str) -> dict[str, str]:
    """Each queue row's HTML by client code."""
    found = {}
    for chunk in html.split("<tr data-client=")[1:]:
        code = chunk.split('"')[1]
        found[code] = chunk.split("</tr>")[0]
    return found


def _queue(web, **params) -> tuple[str, dict[str, str]]:
    with override("en"):
        response = web.get(reverse("dosing:queue"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    return html, _rows(html)


def test_the_counts_of_a_fixed_day(day, users, client_as):
    clinician = users["clinician"]
    for code in ("PA-Q001", "PA-Q002", "PA-Q003"):
        make_client(code, clinician)  # dosed yesterday: due today
    dosed = make_client("PA-Q004", clinician)
    past_dose(dosed, day)
    make_client("PA-Q005", clinician, last_dose_days_ago=4)  # missed days: held for review
    away = make_client("PA-Q006", clinician)
    past_dose(away, day, kind="takehome")
    away_too = make_client("PA-Q007", clinician)
    past_dose(away_too, day, kind="takehome")

    counts = queries.queue_day(day).counts
    assert (counts.waiting, counts.dosed, counts.hold, counts.away) == (3, 1, 1, 2)

    # The counts are the whole day's, whatever the filters narrow the rows to.
    html, rows = _queue(client_as("nurse"), status="hold")
    assert set(rows) == {"PA-Q005"}
    shown = dict(re.findall(r'data-count="(\w+)".*?<strong>(\d+)</strong>', html, re.S))
    assert shown == {"waiting": "3", "dosed": "1", "hold": "1", "away": "2"}
    html, rows = _queue(client_as("nurse"), q="q00")
    assert set(rows) == {"PA-Q001", "PA-Q002", "PA-Q003", "PA-Q004", "PA-Q005"}


def test_urine_badge_on_exactly_the_clients_drawn_for_today(day, users, client_as):
    clinician = users["clinician"]
    drawn = make_client("PA-U001", clinician)
    given = make_client("PA-U002", clinician)
    tomorrow = make_client("PA-U003", clinician)
    make_client("PA-U004", clinician)
    ScheduledUrineTest.objects.create(client=drawn, on=day)
    sample = UrineSample.objects.create(client=given, collected_on=day, scheduled=True)
    ScheduledUrineTest.objects.create(client=given, on=day, sample=sample)
    ScheduledUrineTest.objects.create(client=tomorrow, on=day + timedelta(days=1))
    ScheduledUrineTest.objects.create(client=drawn, on=day - timedelta(days=3))

    _html, rows = _queue(client_as("nurse"))
    with_badge = {code for code, row in rows.items() if 'data-badge="urine"' in row}
    assert with_badge == {"PA-U001", "PA-U002"}
    assert "Urine test today" in rows["PA-U001"]
    assert "Urine test given" in rows["PA-U002"]
    assert "Urine test today" not in rows["PA-U002"]


def test_an_appointment_shows_on_its_day_only(day, clock_at, users, client_as):
    clinician = users["clinician"]
    seen = make_client("PA-A001", clinician)
    other = make_client("PA-A002", clinician)
    service_actions.make_appointment(
        seen,
        on=day + timedelta(days=1),
        kind="review",
        note="after two missed days",
        user=users["nurse"],
    )
    cancelled = service_actions.make_appointment(
        other, on=day + timedelta(days=1), kind="urine", note="", user=users["nurse"]
    )
    service_actions.close_appointment(cancelled, state="cancelled", user=users["nurse"])

    _html, rows = _queue(client_as("nurse"))
    assert not any('data-badge="appointment"' in row for row in rows.values())

    clock_at(datetime(2026, 3, 11, 8, 0))
    _html, rows = _queue(client_as("nurse"))
    assert 'data-badge="appointment"' in rows["PA-A001"]
    assert "Appointment: Clinician review" in rows["PA-A001"]
    assert "after two missed days" in rows["PA-A001"]
    assert 'data-badge="appointment"' not in rows["PA-A002"]  # cancelled

    clock_at(datetime(2026, 3, 12, 8, 0))
    _html, rows = _queue(client_as("nurse"))
    assert not any('data-badge="appointment"' in row for row in rows.values())


def test_a_suspended_take_home_is_shown_to_the_nurse(day, users, client_as):
    clinician = users["clinician"]
    held = make_client("PA-S001", clinician)
    make_client("PA-S002", clinician)
    takehome_actions.suspend_takehome(
        held, "positive for fentanyl", (day + timedelta(days=14)).isoformat(), clinician
    )
    web = client_as("nurse")
    _html, rows = _queue(web)
    assert 'data-badge="takehome_suspended"' in rows["PA-S001"]
    assert "Take-home suspended" in rows["PA-S001"]
    assert "positive for fentanyl" in rows["PA-S001"]  # the reason, not only a flag
    assert "takehome_suspended" not in rows["PA-S002"]

    # The row the nurse's click brings back (htmx) keeps its badges.
    with override("en"):
        partial = web.get(
            reverse("dosing:dose_confirm", args=[held.external_id]),
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        ).content.decode()
    assert 'data-badge="takehome_suspended"' in partial


def test_the_dose_buttons_accessible_name_includes_the_client_code(day, users, client_as):
    client = make_client("YX-000001", users["clinician"])
    web = client_as("nurse")
    html, rows = _queue(web)
    assert 'aria-label="Dose YX-000001"' in rows["YX-000001"]
    assert '<strong class="code">YX-000001</strong>' in rows["YX-000001"]  # nowrap in app.css
    with override("zh-hans"):
        zh = web.get(reverse("dosing:queue"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'aria-label="服药 YX-000001"' in zh
    with override("en"):
        confirm = web.get(
            reverse("dosing:dose_confirm", args=[client.external_id]),
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        ).content.decode()
    assert 'aria-label="Confirm the dose for YX-000001"' in confirm


def test_ops_registers_the_three_sources_of_badges():
    assert badges.registered() == ["labs.urine", "services.appointment", "takehome.suspension"]


def test_badges_cost_a_fixed_number_of_queries(day, users, django_assert_max_num_queries):
    for i in range(30):
        client = make_client(f"PA-B{i:03d}", users["clinician"])
        ScheduledUrineTest.objects.create(client=client, on=day)
        service_actions.make_appointment(client, on=day, kind="lab", note="", user=users["nurse"])
    ids = list(queries.Client.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(3):
        found = badges.for_clients(clock.today(), ids)
    assert len(found) == 30 and all(len(v) == 2 for v in found.values())


def test_the_counts_fetch_themselves_again_after_a_dose(day, users, client_as):
    client = make_client("PA-C001", users["clinician"])
    make_client("PA-C002", users["clinician"])
    web = client_as("nurse")
    html, _rows_ = _queue(web)
    assert 'hx-trigger="dosed from:body"' in html and reverse("dosing:queue_counts") in html

    response = web.post(reverse("dosing:dose", args=[client.external_id]), {"mg": "60"}, **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "dosed"
    counts = web.get(reverse("dosing:queue_counts"), {"status": "dosed"}, **HTMX).content.decode()
    shown = dict(re.findall(r'data-count="(\w+)".*?<strong>(\d+)</strong>', counts, re.S))
    assert shown == {"waiting": "1", "dosed": "1", "hold": "0", "away": "0"}
    assert '<a href="?status=dosed" aria-current="true">' in counts

    # A refused dose (already dosed) does not ask for the counts again.
    again = web.post(reverse("dosing:dose", args=[client.external_id]), {"mg": "60"}, **HTMX)
    assert "HX-Trigger" not in again
    assert client_as("police").get(reverse("dosing:queue_counts")).status_code == 403
