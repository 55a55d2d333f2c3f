"""Services: group attendance all or nothing, naloxone kits, and their counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from pingan.core import clock
from pingan.registry.actions import enrol_client
from pingan.services import actions, queries
from pingan.services.models import Attendance, NaloxoneKit, ServiceSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(users):
    return [
        enrol_client(alias=f"G{i}", sex="M", birth_year=1980 + i, user=users["clinician"])
        for i in range(3)
    ]


def test_group_session_writes_one_attendance_per_client(users, three):
    codes = " ".join(c.code for c in three) + f", {three[0].code.lower()}"
    session = actions.record_session(
        kind="psychoeducation",
        on=clock.today(),
        staff=users["nurse"],
        topic="Overdose",
        group=True,
        codes=actions.parse_codes(codes),
        user=users["nurse"],
    )
    assert sorted(a.client_id for a in session.attendance.all()) == sorted(c.pk for c in three)


def test_a_bad_code_in_the_group_writes_nothing_and_says_which(client_as, three):
    web = client_as("nurse")
    response = web.post(
        "/services/",
        {
            "kind": "counselling",
            "on": clock.today().isoformat(),
            "group": "on",
            "clients": f"{three[0].code}\n{three[1].code}\nPANOPE1",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "PANOPE1" in response.content.decode()
    assert ServiceSession.objects.count() == 0 and Attendance.objects.count() == 0


def test_failure_while_writing_attendance_rolls_back_the_session(users, three, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Attendance.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        actions.record_session(
            kind="counselling",
            on=clock.today(),
            staff=users["nurse"],
            topic="",
            group=True,
            codes=[c.code for c in three],
            user=users["nurse"],
        )
    assert ServiceSession.objects.count() == 0


def test_session_rules(users, three):
    nurse = users["nurse"]
    with override("en"), pytest.raises(ValidationError, match="one-to-one"):
        actions.record_session(
            kind="counselling",
            on=clock.today(),
            staff=nurse,
            topic="",
            group=False,
            codes=[three[0].code, three[1].code],
            user=nurse,
        )
    with pytest.raises(ValidationError):
        actions.record_session(
            kind="counselling",
            on=clock.today() + timedelta(days=1),
            staff=nurse,
            topic="",
            group=False,
            codes=[three[0].code],
            user=nurse,
        )
    with pytest.raises(ValidationError):
        actions.record_session(
            kind="massage",
            on=clock.today(),
            staff=nurse,
            topic="",
            group=False,
            codes=[three[0].code],
            user=nurse,
        )
    assert ServiceSession.objects.count() == 0


def test_session_screen_records_and_shows_attendance(client_as, three):
    web = client_as("nurse")
    response = web.post(
        "/services/",
        {"kind": "meal", "on": clock.today().isoformat(), "clients": three[2].code},
    )
    session = ServiceSession.objects.get()
    assert response["Location"] == f"/services/sessions/{session.external_id}/"
    page = web.get(response["Location"]).content.decode()
    assert three[2].code in page


def test_naloxone_kit_follow_up_and_counts(users, three, client_as, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2024, 6, 20))
    nurse = users["nurse"]
    kit = actions.hand_out_naloxone(three[0], handed_on=date(2024, 5, 1), user=nurse)
    assert kit.follow_up_on == date(2024, 5, 31)
    actions.hand_out_naloxone(three[1], handed_on=date(2024, 4, 30), user=nurse)
    with pytest.raises(ValidationError):
        actions.hand_out_naloxone(
            three[2], handed_on=date(2024, 5, 2), follow_up_on=date(2024, 5, 1), user=nurse
        )
    assert queries.naloxone_kits("2024-05").numerator == 1
    assert queries.naloxone_kits(date(2024, 4, 3)).numerator == 1
    other = NaloxoneKit.objects.exclude(pk=kit.pk).get()
    assert list(queries.kits_due_follow_up(date(2024, 5, 30))) == [other]
    assert list(queries.kits_due_follow_up(date(2024, 5, 31))) == [other, kit]
    actions.record_kit_follow_up(kit, used="yes", note="used on a friend", user=nurse)
    assert NaloxoneKit.objects.get(pk=kit.pk).used == "yes"
    assert list(queries.kits_due_follow_up(date(2024, 5, 31))) == [other]

    for on, kind, group in (
        (date(2024, 5, 1), "counselling", False),
        (date(2024, 5, 31), "counselling", True),
        (date(2024, 6, 1), "counselling", False),
        (date(2024, 5, 10), "psychoeducation", True),
    ):
        actions.record_session(
            kind=kind,
            on=on,
            staff=nurse,
            topic="",
            group=group,
            codes=[three[0].code] if not group else [c.code for c in three],
            user=nurse,
        )
    sessions = queries.counselling_sessions("2024-05")
    assert (sessions.numerator, sessions.denominator, sessions.value) == (2, None, 2)
