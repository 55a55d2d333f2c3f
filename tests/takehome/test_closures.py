"""Which days the centre is closed (core.closed_days), as the take-home rules and the
manager's closed-days screen use it: the holiday calendar, make-up working days, weekly
closing days, days entered by hand, and years the calendar does not cover."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock, closed_days
from pingan.core.closed_days import HAND, HOLIDAY, WEEKDAY, Policy
from pingan.core.domain import Refusal
from pingan.core.models import ClosedDay
from pingan.registry.models import Client, Episode
from pingan.takehome import actions, closures, queries
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db

SPRING_FESTIVAL_2025 = date(2025, 1, 29)
MAKEUP_SUNDAY_2025 = date(2025, 1, 26)  # 调休: a working day, though a Sunday
PLAIN_SATURDAY_2025 = date(2025, 3, 8)
UNCOVERED = closed_days.calendar_last_year() + 1
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _english():
    return translation.override("en")


# The definition ------------------------------------------------------------------------------


def test_make_up_working_day_is_open_and_the_spring_festival_is_closed():
    assert closed_days.closure(MAKEUP_SUNDAY_2025) is None
    found = closed_days.closure(SPRING_FESTIVAL_2025)
    assert found.source == HOLIDAY
    with _english():
        assert closed_days.closure(SPRING_FESTIVAL_2025).reason == "Spring Festival"
    with translation.override("zh-hans"):
        assert closed_days.closure(SPRING_FESTIVAL_2025).reason == "春节"
    assert closed_days.holiday_name(MAKEUP_SUNDAY_2025) is None
    assert closed_days.holiday_name(SPRING_FESTIVAL_2025) == "Spring Festival"


def test_a_plain_weekend_is_open_unless_the_centre_closes_that_weekday():
    assert closed_days.closure(PLAIN_SATURDAY_2025) is None
    saturdays = Policy(weekdays=frozenset({5}))
    with _english():
        found = closed_days.closure(PLAIN_SATURDAY_2025, saturdays)
    assert (found.source, found.reason) == (WEEKDAY, "Saturday")


def test_a_make_up_working_day_opens_even_a_weekly_closing_day():
    sundays = Policy(weekdays=frozenset({6}))
    assert closed_days.closure(date(2025, 1, 19), sundays).source == WEEKDAY
    assert closed_days.closure(MAKEUP_SUNDAY_2025, sundays) is None
    # A centre that does not follow the holiday calendar follows none of it.
    ignoring = Policy(weekdays=frozenset({6}), public_holidays=False)
    assert closed_days.closure(MAKEUP_SUNDAY_2025, ignoring).source == WEEKDAY
    assert closed_days.closure(SPRING_FESTIVAL_2025, ignoring) is None


def test_a_day_entered_by_hand_is_closed_whatever_the_calendar_says():
    ClosedDay.objects.create(day=MAKEUP_SUNDAY_2025, reason="heating repairs")
    found = closed_days.closure(MAKEUP_SUNDAY_2025)
    assert (found.source, found.reason) == (HAND, "heating repairs")
    listed = closed_days.between(date(2025, 1, 1), date(2025, 1, 31))
    assert MAKEUP_SUNDAY_2025 in [c.day for c in listed]
    assert MAKEUP_SUNDAY_2025 not in [
        c.day for c in closed_days.makeup_workdays(date(2025, 1, 1), date(2025, 1, 31))
    ]


def test_the_2025_list_has_the_official_holidays():
    days = [c.day for c in closed_days.between(date(2025, 1, 1), date(2025, 12, 31))]
    spring = [date(2025, 1, 28) + timedelta(days=i) for i in range(8)]  # 28 Jan – 4 Feb
    assert set(spring) <= set(days)
    assert date(2025, 10, 1) in days and date(2025, 5, 1) in days
    assert MAKEUP_SUNDAY_2025 not in days and PLAIN_SATURDAY_2025 not in days
    makeup = [c.day for c in closed_days.makeup_workdays(date(2025, 1, 1), date(2025, 12, 31))]
    assert MAKEUP_SUNDAY_2025 in makeup and date(2025, 2, 8) in makeup


def test_a_year_the_calendar_does_not_cover_uses_the_days_entered_by_hand_and_never_raises():
    first, last = date(UNCOVERED, 1, 1), date(UNCOVERED, 12, 31)
    assert not closed_days.calendar_covers(UNCOVERED)
    assert closed_days.calendar_covers(UNCOVERED - 1)
    assert closed_days.between(first, last) == []
    assert closed_days.holiday_name(date(UNCOVERED, 2, 6)) is None
    ClosedDay.objects.create(day=date(UNCOVERED, 2, 6), reason="Spring Festival (by hand)")
    found = closed_days.between(first, last)
    assert [(c.day, c.source) for c in found] == [(date(UNCOVERED, 2, 6), HAND)]
    assert closed_days.calendar_gaps(first - timedelta(days=10), last) == [UNCOVERED]
    assert closed_days.calendar_gaps(first, last, Policy(public_holidays=False)) == []
    assert closed_days.calendar_gaps(date(2025, 1, 1), date(2025, 12, 31)) == []


def test_the_policy_in_force_is_the_take_home_standard_in_force(users):
    assert closed_days.policy_on(date(2025, 1, 1)) == Policy()
    document = default_document("pingan")
    document["closed_days"]["weekdays"] = [6]
    draft = actions.draft_standard("pingan", json.dumps(document), users["manager"], "Sundays")
    actions.sign_standard(draft, users["cdc"])
    actions.sign_standard(draft, users["police"])
    today = clock.today()
    assert closed_days.policy_on(today) == Policy(weekdays=frozenset({6}))
    rules = queries.rules_for(today)
    assert closures.policy_of(rules) == closed_days.policy_on(today)
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    assert closed_days.is_closed(sunday) == closures.is_closed(sunday, rules)


# Entering days by hand ---------------------------------------------------------------------


def test_add_and_remove_a_day_by_hand_are_audited(users):
    made = actions.add_closure("2025-03-12", "  staff training ", users["manager"])
    assert (made.day, made.reason, made.created_by) == (
        date(2025, 3, 12),
        "staff training",
        users["manager"],
    )
    assert AuditEntry.objects.filter(action="centre_closure", target="2025-03-12").exists()
    actions.remove_closure(made, users["manager"])
    assert not ClosedDay.objects.exists()
    assert AuditEntry.objects.filter(action="centre_closure_removed", target="2025-03-12").exists()
    with _english(), pytest.raises(Refusal, match="no longer"):
        actions.remove_closure(made, users["manager"])


@pytest.mark.parametrize(
    ("day", "reason", "message"),
    [
        ("12/03/2025", "x", "is not a date"),
        ("2025-02-30", "x", "is not a date"),
        ("", "x", "is not a date"),
        ("0202-03-12", "x", "between 2000 and 2099"),
        ("2025-03-12", "   ", "A reason is required"),
        ("2025-03-12", "x" * 201, "200 characters or fewer"),
    ],
)
def test_bad_days_and_reasons_are_refused_with_why(users, day, reason, message):
    with _english(), pytest.raises(Refusal, match=message):
        actions.add_closure(day, reason, users["manager"])
    assert not ClosedDay.objects.exists()


def test_a_day_entered_twice_is_refused_naming_the_first_reason(users):
    actions.add_closure(date(2025, 3, 12), "staff training", users["manager"])
    with _english(), pytest.raises(Refusal, match="already entered.*staff training"):
        actions.add_closure(date(2025, 3, 12), "again", users["manager"])
    assert ClosedDay.objects.count() == 1


def test_only_a_manager_enters_closed_days(users):
    with pytest.raises(Refusal):
        actions.add_closure(date(2025, 3, 12), "x", users["clinician"])
    assert not ClosedDay.objects.exists()


# The screen ---------------------------------------------------------------------------------


def _page(client, year=None, lang="en"):
    url = reverse("takehome:closures") + (f"?year={year}" if year is not None else "")
    return client.get(url, HTTP_ACCEPT_LANGUAGE=lang)


def test_the_screen_lists_the_years_closed_days_and_make_up_days(client_as):
    manager = client_as("manager")
    with _english():
        page = _page(manager, 2025).content.decode()
    assert "2025-01-29" in page and "Spring Festival" in page
    closed_part, _, makeup_part = page.partition("Make-up working days")
    assert "2025-01-26" not in closed_part and "2025-01-26" in makeup_part
    assert "does not cover" not in page


def test_the_screen_adds_a_day_and_opens_it_again(client_as):
    manager = client_as("manager")
    url = reverse("takehome:closures")
    with _english():
        response = manager.post(url, {"day": "2025-03-12", "reason": "staff training"}, **EN)
        assert response.status_code == 302 and response["Location"].endswith("?year=2025")
        page = manager.get(response["Location"], **EN).content.decode()
    assert "2025-03-12 marked closed: staff training." in page
    assert "staff training" in page and "entered by hand" in page
    made = ClosedDay.objects.get()
    with _english():
        response = manager.post(reverse("takehome:closure_remove", args=[made.external_id]), **EN)
        page = manager.get(response["Location"], **EN).content.decode()
    assert "2025-03-12 is no longer marked closed." in page
    assert not ClosedDay.objects.exists()


@pytest.mark.parametrize(
    ("day", "reason", "message"),
    [
        ("next friday", "training", "“next friday” is not a date: enter it as YYYY-MM-DD"),
        ("2025-13-01", "training", "“2025-13-01” is not a date"),
        ("2025-03-12", "", "A reason is required."),
    ],
)
def test_the_screen_refuses_bad_input_with_a_clear_message(client_as, day, reason, message):
    manager = client_as("manager")
    with _english():
        response = manager.post(reverse("takehome:closures"), {"day": day, "reason": reason}, **EN)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'value="{day}"' in page  # what was typed is kept to correct it
    assert not ClosedDay.objects.exists()


def test_the_screen_refuses_a_duplicate_with_a_clear_message(client_as):
    manager = client_as("manager")
    url = reverse("takehome:closures")
    with _english():
        manager.post(url, {"day": "2025-03-12", "reason": "staff training"}, **EN)
        response = manager.post(url, {"day": "2025-03-12", "reason": "inspection"}, **EN)
    assert response.status_code == 400
    assert "2025-03-12 is already entered as closed: staff training." in response.content.decode()
    assert list(ClosedDay.objects.values_list("reason", flat=True)) == ["staff training"]


def test_the_screen_refuses_in_chinese_for_a_chinese_reader(client_as):
    manager = client_as("manager")
    with translation.override("zh-hans"):
        response = manager.post(
            reverse("takehome:closures"),
            {"day": "abc", "reason": "x"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    assert "不是日期" in response.content.decode()


@pytest.mark.parametrize("year", ["20x7", "99999", "-1", "1999"])
def test_a_bad_year_shows_this_year_with_a_message(client_as, year):
    with _english():
        response = _page(client_as("manager"), year)
    assert response.status_code == 400
    assert "is not a year between 2000 and 2099" in response.content.decode()


def test_a_year_the_calendar_does_not_cover_warns_the_manager(client_as):
    manager = client_as("manager")
    with _english():
        page = _page(manager, UNCOVERED).content.decode()
    assert f"The holiday calendar does not cover {UNCOVERED}" in page
    assert f"?year={UNCOVERED}" in page
    with translation.override("zh-hans"):
        page = _page(manager, UNCOVERED, lang="zh-hans").content.decode()
    assert f"节假日日历不包含{UNCOVERED}年" in page


def test_the_clinician_planning_take_homes_is_warned_near_the_end_of_the_calendar(
    client_as, clock_at
):
    clock_at(datetime(UNCOVERED - 1, 12, 20, 10, 0))
    person = Client.objects.create(code="PA-9", alias="Lao Li", sex="M", birth_year=1970)
    Episode.objects.create(client=person, enrolled_on=date(UNCOVERED - 2, 1, 1))
    clinician = client_as("clinician")
    with _english():
        page = clinician.get(reverse("takehome:client", args=[person.external_id]), **EN)
    text = page.content.decode()
    assert page.status_code == 200
    assert f"The holiday calendar does not cover {UNCOVERED}" in text
    assert "Enter the closed days" not in text  # only managers enter them
    clock_at(datetime(UNCOVERED - 1, 6, 1, 10, 0))
    with _english():
        text = clinician.get(reverse("takehome:client", args=[person.external_id]), **EN).content
    assert b"does not cover" not in text
