"""A box with a modem that reports no "opened" event on a day one of its bottles covers
raises exactly one alert, however often the check runs; a box without a modem, a box
opened that day and a box with no bottle that day raise none."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from box_factories import bottle, issue, make_client
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from pingan.audit.models import AuditEntry
from pingan.core.domain import Forbidden, Refusal, operator
from pingan.lockbox import actions, pin
from pingan.lockbox.models import BoxAlert
from pingan.lockbox.not_opened import check_not_opened
from pingan.lockbox.simulator import ReferenceBox

pytestmark = pytest.mark.django_db

BOTTLE_DAY = date(2026, 11, 23)
DAY_BEFORE = BOTTLE_DAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _report(box_row, secret: str, opened_on: list[date]) -> None:
    """The reference box opens on each day given (or only reports its battery), then
    uploads through the server's own code path."""
    moment = {"now": datetime.combine(DAY_BEFORE, datetime.min.time().replace(hour=9))}
    tz = timezone.get_default_timezone()
    sim = ReferenceBox(box_row.label, secret, tz=tz, clock=lambda: moment["now"].replace(tzinfo=tz))
    for day in opened_on:
        moment["now"] = datetime.combine(day, datetime.min.time().replace(hour=20))
        assert sim.enter_pin(pin.pin_for(secret, day)) == "opened"
    if not opened_on:
        sim.battery(80)
    body, signature = sim.next_upload()
    assert actions.receive_upload(body, signature).status == 202


@pytest.fixture
def boxes(clock_at):
    clock_at(datetime(2026, 11, 24, 9, 0))
    made = {}
    for code in ("PA-1", "PA-2", "PA-3", "PA-4"):
        client = make_client(code)
        made[code] = (client, *issue(client))
    shut, _, silent, opened = (made[c] for c in ("PA-1", "PA-2", "PA-3", "PA-4"))
    # PA-1: bottles on both days, opened only the day before: not opened on the bottle day.
    bottle(shut[0], shut[1], DAY_BEFORE)
    bottle(shut[0], shut[1], BOTTLE_DAY)
    _report(shut[1], shut[2], [DAY_BEFORE])
    # PA-2: a bottle, but its box has never reported (no modem): its silence says nothing.
    bottle(made["PA-2"][0], made["PA-2"][1], BOTTLE_DAY)
    # PA-3: a modem, not opened, but no bottle that day.
    _report(silent[1], silent[2], [])
    # PA-4: a modem, a bottle, opened on the day.
    bottle(opened[0], opened[1], BOTTLE_DAY)
    _report(opened[1], opened[2], [BOTTLE_DAY])
    return made


def test_a_box_not_opened_on_a_bottle_day_raises_exactly_one_alert(boxes):
    with operator():
        raised = check_not_opened(BOTTLE_DAY)
    assert [(a.box.label, a.kind, a.day) for a in raised] == [
        (boxes["PA-1"][1].label, "not_opened", BOTTLE_DAY)
    ]
    # The daily command for yesterday finds the same box and raises nothing new.
    call_command("box", "not-opened")
    call_command("box", "not-opened", "--date", BOTTLE_DAY.isoformat())
    alerts = BoxAlert.objects.filter(kind="not_opened")
    assert [(a.box.client.code, a.day, a.event) for a in alerts] == [("PA-1", BOTTLE_DAY, None)]
    assert not BoxAlert.objects.exclude(kind="not_opened").exists()  # PA-4's opening was due
    # The day before, PA-1 was opened: nothing.
    with operator():
        assert check_not_opened(DAY_BEFORE) == []
    assert AuditEntry.objects.filter(action="box_not_opened_check").count() == 4


def test_a_day_not_over_is_refused_and_staff_without_the_permission_too(boxes, users):
    with operator(), pytest.raises(Refusal, match="not over yet"):
        check_not_opened(date(2026, 11, 24))
    with pytest.raises(CommandError, match="not over yet"):
        call_command("box", "not-opened", "--date", "2026-11-25")
    with pytest.raises(Forbidden):
        check_not_opened(BOTTLE_DAY, users["nurse"])
    assert not BoxAlert.objects.filter(kind="not_opened").exists()


def test_the_alerts_screen_says_which_day(boxes, client_as):
    with operator():
        check_not_opened(BOTTLE_DAY)
    browser = client_as("manager")
    page = browser.get("/lockbox/alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-kind="not_opened"' in page and "2026-11-23" in page
