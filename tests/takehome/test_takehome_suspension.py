"""Take-home suspended by a clinician with a reason and a review day, shown to the nurse,
lifted with a note; both audited. Bad input is refused with a clear message, nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden, Refusal
from pingan.takehome import actions, suspensions
from pingan.takehome.models import Suspension

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def in_days(n: int):
    return clock.today() + timedelta(days=n)


def nothing_written() -> None:
    assert not Suspension.objects.exists()
    assert not AuditEntry.objects.filter(action="takehome_suspend").exists()


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_a_suspension_without_a_reason_is_refused(stable, users, reason):
    with pytest.raises(Refusal) as refused:
        actions.suspend_takehome(stable, reason, in_days(14), users["clinician"])
    assert refused.value.code == "reason"
    assert refused.value.message == "Say why take-home is suspended: a suspension needs a reason."
    nothing_written()


@pytest.mark.parametrize(
    ("review_on", "message"),
    [
        (None, "Enter the day the suspension is to be reviewed."),
        ("", "Enter the day the suspension is to be reviewed."),
        ("next week", "“next week” is not a date: enter the review day as YYYY-MM-DD."),
        ("2026-13-01", "“2026-13-01” is not a date: enter the review day as YYYY-MM-DD."),
        ("2026-05-31", "The review day cannot be in the past."),
        ("2027-06-02", "Set the review within a year, by 2027-06-01 at the latest."),
    ],
)
def test_a_suspension_without_a_sensible_review_day_is_refused(stable, users, review_on, message):
    with pytest.raises(Refusal) as refused:
        actions.suspend_takehome(stable, "missed recall", review_on, users["clinician"])
    assert refused.value.message == message
    nothing_written()


def test_too_long_a_reason_and_the_wrong_role_are_refused(stable, users):
    with pytest.raises(Refusal, match="300 characters or fewer"):
        actions.suspend_takehome(stable, "x" * 301, in_days(7), users["clinician"])
    for role in ("nurse", "police", "manager"):
        with pytest.raises(Forbidden):
            actions.suspend_takehome(stable, "diversion suspected", in_days(7), users[role])
    nothing_written()


def test_the_database_keeps_a_reason_and_one_standing_suspension(stable, users):
    fields = {"client": stable, "review_on": in_days(7), "suspended_by": users["clinician"]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Suspension.objects.create(reason="", suspended_at=clock.now(), **fields)
    Suspension.objects.create(reason="first", suspended_at=clock.now(), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Suspension.objects.create(reason="second", suspended_at=clock.now(), **fields)


def test_suspend_and_lift_are_audited_and_hold_take_home_meanwhile(
    stable, users, monday, ready_request
):
    req = ready_request(stable, 2)
    held = actions.suspend_takehome(
        stable, " bottle missing at recall ", "2026-06-08", users["clinician"]
    )
    assert held.reason == "bottle missing at recall"  # trimmed
    entry = AuditEntry.objects.get(action="takehome_suspend")
    assert entry.client_code == "PA-8" and entry.username == "clinician1"
    assert entry.detail == {"reason": "bottle missing at recall", "review_on": "2026-06-08"}
    # While it stands: no second suspension, no new request, no approval, no dispense.
    with pytest.raises(Refusal, match="Lift it first"):
        actions.suspend_takehome(stable, "again", in_days(3), users["clinician"])
    with pytest.raises(Refusal, match="suspended since 2026-06-01: bottle missing at recall"):
        actions.request_takehome(stable, 2, users["nurse"])
    assert actions.dispense_lapses(req, clock.today()) == [
        "Take-home is suspended since 2026-06-01: bottle missing at recall (review by 2026-06-08)."
    ]
    # Lifting needs a note, the clinician's role, and happens once.
    for note in (None, "", "  "):
        with pytest.raises(Refusal, match="lifting a suspension needs a note"):
            actions.lift_suspension(held, note, users["clinician"])
    with pytest.raises(Forbidden):
        actions.lift_suspension(held, "fine", users["nurse"])
    assert not AuditEntry.objects.filter(action="takehome_suspension_lift").exists()
    actions.lift_suspension(held, "bottle found, returned empty", users["clinician"])
    lift = AuditEntry.objects.get(action="takehome_suspension_lift")
    assert lift.detail["note"] == "bottle found, returned empty"
    with pytest.raises(Refusal, match="already lifted"):
        actions.lift_suspension(held, "again", users["clinician"])
    assert suspensions.standing(stable) is None
    assert actions.dispense_lapses(req, clock.today()) == []


def test_the_nurse_sees_the_suspension_on_the_queue_and_the_client_page(
    stable, users, monday, ready_request, browser_as
):
    ready_request(stable, 2)
    actions.suspend_takehome(stable, "methadone-negative urine", in_days(10), users["clinician"])
    nurse = browser_as("nurse")
    page = nurse.get(reverse("takehome:client", args=[stable.external_id])).content.decode()
    assert 'id="suspension"' in page and "methadone-negative urine" in page
    assert "review by 2026-06-11" in page
    assert "Lift the suspension" not in page  # the clinician's, not the nurse's
    queue = nurse.get(reverse("takehome:index")).content.decode()
    assert 'data-suspended="PA-8"' in queue and "methadone-negative urine" in queue
    assert "take-home suspended" in queue.split('data-ready="PA-8"', 1)[1].split("</p>", 1)[0]
    # An officer reaches the take-home start page too, and sees no client there.
    police = browser_as("police").get(reverse("takehome:index")).content.decode()
    assert "PA-8" not in police and "methadone-negative" not in police
    # Overdue reviews are marked.
    monday.advance(days=11)
    queue = nurse.get(reverse("takehome:index")).content.decode()
    assert "review overdue" in queue


def test_the_screens_refuse_bad_input_in_the_readers_language(stable, users, monday, browser_as):
    clinician = browser_as("clinician", "zh-hans")
    url = reverse("takehome:suspend", args=[stable.external_id])
    response = clinician.post(url, {"reason": "  ", "review_on": "2026-06-10"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "请说明暂停带药回家的原因：暂停必须填写原因。"
    ]
    response = clinician.post(url, {"reason": "漏服", "review_on": "明天"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "“明天”不是日期：请按 YYYY-MM-DD 格式输入复核日期。"
    ]
    nothing_written()
    assert (
        browser_as("nurse").post(url, {"reason": "x", "review_on": "2026-06-10"}).status_code == 403
    )
    response = clinician.post(url, {"reason": "漏服一周", "review_on": "2026-06-10"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["已暂停带药回家。"]
    page = response.content.decode()
    assert "漏服一周" in page and "复核日期 2026-06-10" in page
    held = Suspension.objects.get()
    lift = reverse("takehome:lift_suspension", args=[held.external_id])
    response = clinician.post(lift, {"note": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "请说明可以恢复带药回家的原因：解除暂停必须填写说明。"
    ]
    response = clinician.post(lift, {"note": "已恢复每日服药"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["已解除暂停。"]
    assert "已恢复每日服药" in response.content.decode()  # in the client's history
