"""The random urine-test schedule draws only on days the centre is open, by the same
definition of a closed day as the take-home closed-day allowance (core.closed_days)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from pingan.core import closed_days
from pingan.core.models import Centre, ClosedDay
from pingan.labs import actions
from pingan.registry.models import Client, Episode
from pingan.takehome import actions as takehome_actions
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db

UNCOVERED = closed_days.calendar_last_year() + 1


@pytest.fixture
def every_open_day(users):
    """One client in treatment all along, and a centre number of tests larger than any month,
    so the draw takes every open day and the schedule shows exactly which days are open."""
    centre = Centre.current()
    centre.urine_tests_per_month = 31
    centre.save()
    person = Client.objects.create(code="C1", alias="c1", sex="M", birth_year=1980)
    Episode.objects.create(client=person, enrolled_on=date(2020, 1, 1))

    def drawn(month: date) -> set[date]:
        return set(actions.generate_schedule(month, seed=1, by=users["clinician"])[0].days)

    return drawn


def test_make_up_working_day_is_open_for_the_schedule(every_open_day):
    days = every_open_day(date(2025, 1, 1))
    assert date(2025, 1, 26) in days  # Sunday, a make-up working day (调休)
    assert date(2025, 1, 25) in days  # a plain Saturday: the clinic doses every day


def test_spring_festival_holiday_is_closed_for_the_schedule(every_open_day):
    days = every_open_day(date(2025, 1, 1)) | every_open_day(date(2025, 2, 1))
    spring = {date(2025, 1, 28) + timedelta(days=i) for i in range(8)}  # 28 Jan – 4 Feb
    assert not days & spring
    assert date(2025, 2, 8) in days  # Saturday, the festival's other make-up working day
    assert actions.closed_days(date(2025, 2, 1)) == [date(2025, 2, d) for d in (1, 2, 3, 4)]


def test_a_day_entered_by_hand_closes_the_schedule(every_open_day):
    ClosedDay.objects.create(day=date(2025, 3, 12), reason="staff training")
    days = every_open_day(date(2025, 3, 1))
    assert date(2025, 3, 12) not in days and len(days) == 30


def test_a_year_the_calendar_does_not_cover_uses_the_days_entered_by_hand(every_open_day):
    february = date(UNCOVERED, 2, 1)
    assert actions.closed_days(february) == []  # no error, and nothing invented
    for d in (5, 6, 7):
        ClosedDay.objects.create(day=date(UNCOVERED, 2, d), reason="Spring Festival")
    days = every_open_day(february)
    assert not days & {date(UNCOVERED, 2, d) for d in (5, 6, 7)}
    assert date(UNCOVERED, 2, 8) in days


def test_the_weekly_closing_day_of_the_standard_in_force_closes_the_schedule(
    every_open_day, users, clock_at
):
    clock_at(datetime(2024, 12, 15, 10, 0))
    document = default_document("pingan")
    document["closed_days"]["weekdays"] = [6]
    draft = takehome_actions.draft_standard(
        "pingan", json.dumps(document), users["manager"], "closed on Sundays"
    )
    takehome_actions.sign_standard(draft, users["cdc"])
    takehome_actions.sign_standard(draft, users["police"])
    days = every_open_day(date(2025, 1, 1))
    sundays = {date(2025, 1, 5), date(2025, 1, 12), date(2025, 1, 19)}
    assert not days & sundays
    assert date(2025, 1, 26) in days  # the make-up Sunday is a working day all the same


def test_the_schedule_screen_warns_when_next_month_is_not_covered(client_as, clock_at):
    clinician = client_as("clinician")
    clock_at(datetime(UNCOVERED - 1, 12, 10, 10, 0))
    with translation.override("en"):
        page = clinician.get(reverse("labs:schedule"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"The holiday calendar does not cover {UNCOVERED}" in page
    clock_at(datetime(UNCOVERED - 1, 10, 10, 10, 0))
    with translation.override("en"):
        page = clinician.get(reverse("labs:schedule"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "does not cover" not in page
