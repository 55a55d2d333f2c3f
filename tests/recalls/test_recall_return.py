"""Counting a recall back, and recalls not answered within 24 hours (docs/recalls.md): a
short return is an incident and a missed recall too, both suspend take-home; bad counts
are refused in the user's language with nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation
from recall_factories import holder

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.messaging.models import SmsMessage
from pingan.recalls import actions, queries
from pingan.recalls.models import Recall, RecallStatus
from pingan.takehome import suspensions
from pingan.takehome.models import Suspension

pytestmark = pytest.mark.django_db


@pytest.fixture
def recalled(monday, users):
    """PA-R recalled by hand, holding bottles of 60 ml for tomorrow and the day after."""
    return actions.recall_client(holder("PA-R"), users["clinician"])


def handed_over(recall: Recall) -> None:
    """As the send run does when it gives the text to the gateway: now."""
    SmsMessage.objects.filter(pk=recall.message_id).update(
        status="sent", handed_at=clock.now(), sent_at=clock.now()
    )


def test_a_full_return_closes_the_recall(recalled, users):
    done = actions.record_return(recalled, "2", "120", users["nurse"], note="box intact")
    assert done.status == RecallStatus.RETURNED
    assert (done.expected_bottles, done.expected_ml) == (2, Decimal("120.00"))
    assert (done.bottles_returned, done.ml_returned) == (2, Decimal("120"))
    assert done.suspension is None and suspensions.standing(recalled.client) is None
    entry = AuditEntry.objects.get(action="recall_return")
    assert entry.detail["outcome"] == "returned" and entry.client_code == "PA-R"
    # Within the measuring tolerance is still in full.
    other = actions.recall_client(holder("PA-S", phone="13900000009"), users["clinician"])
    assert actions.record_return(other, 2, "119.5", users["nurse"]).status == "returned"


@pytest.mark.parametrize(("bottles", "ml"), [("1", "60"), ("2", "100")])
def test_a_short_return_is_an_incident_and_suspends_take_home(recalled, users, bottles, ml):
    with translation.override("en"):
        done = actions.record_return(recalled, bottles, ml, users["nurse"])
    assert done.status == RecallStatus.INCIDENT
    standing = suspensions.standing(recalled.client)
    assert done.suspension == standing
    assert standing.reason.startswith("Recall of 2026-06-01 returned short:")
    assert standing.suspended_by == users["nurse"]
    assert standing.review_on == clock.today() + timedelta(days=7)
    assert AuditEntry.objects.filter(action="takehome_suspend").count() == 1


@pytest.mark.parametrize(
    ("bottles", "ml", "language", "words"),
    [
        ("3", "180", "en", "3 bottles counted, but only 2 are out with PA-R"),
        ("3", "180", "zh-hans", "PA-R"),
        ("2", "-5", "en", "cannot be negative"),
        ("2", "abc", "en", "in millilitres"),
        ("2", "1e400", "en", "in millilitres"),
        ("2", "NaN", "en", "in millilitres"),
        ("2", "12.345", "en", "at most two decimals"),
        ("-1", "60", "en", "whole number"),
        ("two", "60", "en", "whole number"),
        ("", "", "en", "whole number"),
    ],
)
def test_bad_counts_are_refused_and_nothing_is_written(
    recalled, users, bottles, ml, language, words
):
    before = AuditEntry.objects.count()
    with translation.override(language), pytest.raises(Refusal) as refused:
        actions.record_return(recalled, bottles, ml, users["nurse"])
    assert words in refused.value.message
    if language == "zh-hans":
        assert "瓶" in refused.value.message  # in the user's language
    recalled.refresh_from_db()
    assert recalled.status == RecallStatus.OPEN and recalled.bottles_returned is None
    assert not Suspension.objects.exists()
    assert AuditEntry.objects.count() == before


def test_a_closed_recall_takes_no_second_return(recalled, users):
    actions.record_return(recalled, 2, 120, users["nurse"])
    with pytest.raises(Refusal, match="already closed"):
        actions.record_return(recalled, 2, 120, users["nurse"])


def test_the_police_and_the_cdc_cannot_count_a_return(recalled, users):
    for role in ("police", "cdc"):
        with pytest.raises(Refusal) as refused:
            actions.record_return(recalled, 2, 120, users[role])
        assert refused.value.code == "forbidden"


def test_a_recall_unanswered_24_hours_after_the_text_is_missed(recalled, users, clock_at):
    handed_over(recalled)
    told = clock.now()
    clock_at(told + timedelta(hours=23, minutes=59))
    assert actions.close_overdue(users["clinician"]) == []
    clock_at(told + timedelta(hours=25))
    closed = actions.close_overdue(users["clinician"])
    assert [r.pk for r in closed] == [recalled.pk]
    recalled.refresh_from_db()
    assert recalled.status == RecallStatus.MISSED
    standing = suspensions.standing(recalled.client)
    assert recalled.suspension == standing
    assert "not answered within 24 hours" in standing.reason
    assert "Recall of 2026-06-01" in standing.reason
    # Idempotent: nothing more to close, no second suspension.
    assert actions.close_overdue(users["clinician"]) == []
    assert Suspension.objects.count() == 1
    assert AuditEntry.objects.filter(action="recall_missed").count() == 1


def test_the_timer_command_closes_as_the_operator(recalled, clock_at, capsys):
    handed_over(recalled)
    clock_at(clock.now() + timedelta(hours=25))
    call_command("recalls", "close-overdue")
    assert "PA-R recalled 2026-06-01 10:00: missed" in capsys.readouterr().out
    standing = suspensions.standing(recalled.client)
    assert standing.suspended_by.username == actions.SYSTEM_USERNAME
    assert not standing.suspended_by.is_active
    assert not standing.suspended_by.has_usable_password()
    entry = AuditEntry.objects.get(action="recall_missed")
    assert entry.role == "command"
    call_command("recalls", "close-overdue")
    assert "0 recall(s) closed" in capsys.readouterr().out


def test_a_client_not_texted_is_due_24_hours_after_the_call(monday, users, clock_at):
    recall = actions.recall_client(holder("PA-P", consents=()), users["clinician"])
    assert recall.message is None
    clock_at(clock.now() + timedelta(days=3))
    assert actions.close_overdue(users["clinician"]) == []  # never told: not overdue
    actions.mark_phoned(recall, users["nurse"])
    with pytest.raises(Refusal, match="already phoned"):
        actions.mark_phoned(recall, users["nurse"])
    called = clock.now()
    assert queries.due_at(Recall.objects.get()) == called + timedelta(hours=24)
    clock_at(called + timedelta(hours=25))
    assert len(actions.close_overdue(users["clinician"])) == 1


def test_a_standing_suspension_is_kept_not_doubled(recalled, users, clock_at):
    handed_over(recalled)
    first = Suspension.objects.create(
        client=recalled.client,
        reason="urine negative for methadone",
        review_on=clock.today() + timedelta(days=3),
        suspended_by=users["clinician"],
        suspended_at=clock.now(),
    )
    clock_at(clock.now() + timedelta(hours=25))
    actions.close_overdue(users["clinician"])
    recalled.refresh_from_db()
    assert recalled.suspension == first and Suspension.objects.count() == 1
