"""The reference box on its own (keypad, lockout, signing) and against the real server
over HTTP (pytest-django's live server)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from box_factories import bottle, issue, make_client
from django.core.management import call_command
from django.utils import timezone

from pingan.core import clock
from pingan.lockbox import pin
from pingan.lockbox.models import BoxAlert, BoxEvent
from pingan.lockbox.simulator import ReferenceBox

TZ = ZoneInfo("Asia/Shanghai")
SECRET = "3132333435363738393031323334353637383930"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def make_box(start: datetime) -> tuple[ReferenceBox, Clock]:
    clock = Clock(start)
    return ReferenceBox("PATEST0001", SECRET, tz=TZ, clock=clock), clock


def test_correct_pin_opens_with_the_box_clock_day():
    start = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    box, _clock = make_box(start)
    assert box.enter_pin(pin.pin_for(SECRET, start.date() - timedelta(days=1))) == "wrong"
    assert box.enter_pin(pin.pin_for(SECRET, start.date())) == "opened"
    assert [e["type"] for e in box.state.log] == ["pin_failed", "opened"]


def test_five_wrong_pins_lock_for_fifteen_minutes():
    start = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    box, clock = make_box(start)
    right = pin.pin_for(SECRET, start.date())
    wrong = "000000" if right != "000000" else "111111"
    assert [box.enter_pin(wrong) for _ in range(4)] == ["wrong"] * 4
    assert box.enter_pin(wrong) == "locked"
    assert [e["type"] for e in box.state.log][-2:] == ["pin_failed", "locked_out"]
    clock.now = start + timedelta(minutes=14, seconds=59)
    assert box.enter_pin(right) == "locked"  # even the right PIN waits out the lockout
    clock.now = start + timedelta(minutes=15)
    assert box.enter_pin(right) == "opened"
    assert [e["type"] for e in box.state.log].count("locked_out") == 1


def test_uploads_are_signed_with_increasing_seq():
    box, _clock = make_box(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    box.tamper()
    first, signature = box.next_upload()
    second, _sig = box.next_upload()
    assert b'"seq":0' in first and b'"seq":1' in second
    assert signature == pin.sign(SECRET, first)
    assert len(signature) == 64 and signature == signature.lower()


@pytest.mark.django_db(transaction=True)
def test_end_to_end_over_http(live_server):
    owner = make_client("SIM-1")
    box_row, secret = issue(owner)
    today = clock.today()
    bottle(owner, box_row, today)
    box_clock = Clock(clock.localtime().replace(hour=9, minute=0))
    box = ReferenceBox(box_row.label, secret, tz=timezone.get_default_timezone(), clock=box_clock)

    assert box.enter_pin(pin.pin_for(secret, today)) == "opened"
    result = box.upload(live_server.url)
    assert (result.status, result.body) == (202, {"accepted": 1})
    assert list(BoxEvent.objects.values_list("type", flat=True)) == ["opened"]
    assert not BoxAlert.objects.exists()

    for _ in range(5):
        box.enter_pin("000000" if pin.pin_for(secret, today) != "000000" else "111111")
    body, signature = box.next_upload()
    assert ReferenceBox.post(live_server.url, body, signature).status == 202
    assert BoxAlert.objects.get().kind == "locked_out"
    assert BoxEvent.objects.filter(type="pin_failed").count() == 5

    replay = ReferenceBox.post(live_server.url, body, signature)
    assert replay.status == 409
    assert BoxEvent.objects.count() == 7
    box_row.refresh_from_db()
    assert box_row.last_seq == 1


@pytest.mark.django_db(transaction=True)
def test_simulate_command_keeps_state_between_runs(live_server, tmp_path, capsys):
    owner = make_client("SIM-2")
    box_row, secret = issue(owner)
    today = clock.today()
    state = tmp_path / "box.json"
    args = [
        "box",
        "simulate",
        "--box",
        box_row.label,
        "--secret",
        secret,
        "--server",
        live_server.url,
        "--date",
        today.isoformat(),
        "--state",
        str(state),
    ]
    call_command(*args, "--enter-pin", pin.pin_for(secret, today))
    out = capsys.readouterr().out
    assert "opened" in out and "upload: 202" in out
    call_command(*args, "--tamper", "--battery", "40")
    assert "upload: 202" in capsys.readouterr().out
    box_row.refresh_from_db()
    assert box_row.last_seq == 1
    assert sorted(BoxAlert.objects.values_list("kind", flat=True)) == [
        "opened_without_bottle",
        "tamper",
    ]
