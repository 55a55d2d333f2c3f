"""The weekly draw (docs/recalls.md): reproducible from its week and seed, once per week, a
share of the clients holding take-home bottles, and a text only with consent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from recall_factories import FORBIDDEN, holder

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.messaging import notices
from pingan.messaging.models import SmsMessage
from pingan.recalls import actions, rules
from pingan.recalls.models import Recall, RecallDraw
from pingan.takehome.models import BottleStatus, Suspension, TakeHomeBottle

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("eligible", "share", "drawn"),
    [
        (0, "0.10", 0),  # nobody holds bottles: nobody drawn
        (1, "0.10", 1),  # at least one when anyone is eligible
        (4, "0.10", 1),  # 0.4 rounds to 0, raised to 1
        (14, "0.10", 1),  # 1.4 → 1
        (15, "0.10", 2),  # 1.5 rounds half up → 2
        (25, "0.10", 3),  # 2.5 → 3
        (24, "0.10", 2),  # 2.4 → 2
        (3, "1", 3),  # everyone, never more
        (3, "0.9", 3),  # 2.7 → 3
    ],
)
def test_draw_size_rounds_half_up_with_at_least_one(eligible, share, drawn):
    assert rules.draw_size(eligible, Decimal(share)) == drawn


def test_the_same_week_and_seed_draw_the_same_clients_whatever_the_order():
    codes = [f"PA-{i:03d}" for i in range(40)]
    first = rules.draw("2026-W23", "5eed", codes, Decimal("0.10"))
    assert first == rules.draw("2026-W23", "5eed", list(reversed(codes)), Decimal("0.10"))
    assert len(first) == 4 and set(first) <= set(codes) and first == sorted(first)
    # Another week or another seed is another draw (with 40 choose 4 that is near certain).
    assert rules.draw("2026-W24", "5eed", codes, Decimal("0.10")) != first
    assert rules.draw("2026-W23", "5eee", codes, Decimal("0.10")) != first


@pytest.mark.parametrize("text", ["2026-49", "2026-W54", "W49", "2026-W00", "", "2026-W4９"])
def test_a_malformed_week_is_refused(text):
    with pytest.raises(Refusal, match="is not a week"):
        rules.parse_week(text)


@override_settings(PINGAN_RECALL_SHARE=Decimal("0.25"))
def test_the_draw_is_recorded_reproducible_and_not_run_twice(monday, users):
    for i in range(12):
        holder(f"PA-{i:02d}", phone=f"1390000{i:04d}")
    done = actions.draw_week(None, users["clinician"])
    draw = RecallDraw.objects.get()
    assert draw.week == "2026-W23" == rules.iso_week(clock.today())
    assert draw.eligible == [f"PA-{i:02d}" for i in range(12)]
    assert len(draw.drawn) == 3  # 12 × 25 %
    # Anyone can repeat the draw from what the row holds.
    assert rules.draw(draw.week, draw.seed, draw.eligible, draw.share) == draw.drawn
    assert sorted(r.client.code for r in done.recalls) == draw.drawn
    assert sorted(done.texted) == draw.drawn
    entry = AuditEntry.objects.get(action="recall_draw")
    assert entry.detail["seed"] == draw.seed and entry.detail["drawn"] == draw.drawn

    with pytest.raises(Refusal, match="already drawn on 2026-06-01: 3 client") as refused:
        actions.draw_week("2026-W23", users["clinician"])
    assert refused.value.code == "already_drawn"
    assert (RecallDraw.objects.count(), Recall.objects.count()) == (1, 3)
    assert SmsMessage.objects.count() == 3
    assert AuditEntry.objects.filter(action="recall_draw").count() == 1


def test_the_command_draws_once_a_week_and_says_so_the_second_time(monday, capsys):
    holder("PA-1")
    call_command("recalls", "draw")
    out = capsys.readouterr().out
    assert "week 2026-W23" in out and "1 of 1 drawn, 1 texted, 0 to phone" in out
    call_command("recalls", "draw", "--week", "2026-W23")
    assert "already drawn" in capsys.readouterr().out
    assert Recall.objects.count() == 1


def test_the_command_refuses_another_week_and_a_malformed_one(monday):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Only the current week"):
        call_command("recalls", "draw", "--week", "2026-W24")
    with pytest.raises(CommandError, match="is not a week"):
        call_command("recalls", "draw", "--week", "2026/23")
    assert not RecallDraw.objects.exists()


def test_nobody_eligible_draws_nobody(monday, users):
    done = actions.draw_week(None, users["clinician"])
    assert done.recalls == [] and done.draw.drawn == [] and done.draw.eligible == []


def test_who_holds_take_home_bottles(monday, users):
    holder("PA-IN")  # bottles for the next two days
    holder("PA-FAR", ahead=(8, 9))  # beyond the coming week
    holder("PA-PAST", ahead=(-2, -1))  # days gone
    returned = holder("PA-BACK")
    TakeHomeBottle.objects.filter(client=returned).update(status=BottleStatus.RETURNED)
    held = holder("PA-HELD")
    Suspension.objects.create(
        client=held,
        reason="diversion suspected",
        review_on=clock.today() + timedelta(days=7),
        suspended_by=users["clinician"],
        suspended_at=clock.now(),
    )
    open_one = holder("PA-OPEN")
    actions.recall_client(open_one, users["clinician"])
    with override_settings(PINGAN_RECALL_SHARE=Decimal("1")):
        done = actions.draw_week(None, users["clinician"])
    assert done.draw.eligible == ["PA-IN"]


def test_a_client_without_sms_consent_is_listed_to_phone_not_texted(monday, users):
    holder("PA-NO", consents=())
    holder("PA-NOPHONE", phone=None)
    holder("PA-EN", language="en")
    with override_settings(PINGAN_RECALL_SHARE=Decimal("1")), translation.override("en"):
        done = actions.draw_week(None, users["clinician"])
    assert done.texted == ["PA-EN"]
    assert dict(done.to_phone) == {
        "PA-NO": "The client has not agreed to text messages.",
        "PA-NOPHONE": "No phone number is recorded for the client.",
    }
    message = SmsMessage.objects.get()
    assert (message.client.code, message.text) == (
        "PA-EN",
        "Please come to the centre today with your box.",
    )
    assert message.day == clock.today() and message.purpose == "recall"
    assert Recall.objects.get(client__code="PA-NO").message is None


@pytest.mark.parametrize("kind", [notices.RECALL, notices.REMINDER])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_notice_texts_name_neither_drug_nor_treatment(kind, language):
    text = notices.text_for(kind, language).lower()
    assert not [word for word in FORBIDDEN if word in text]


def test_a_recall_by_hand_needs_take_home_bottles(monday, users):
    bare = holder("PA-BARE", ahead=())
    with translation.override("zh-hans"), pytest.raises(Refusal) as refused:
        actions.recall_client(bare, users["clinician"])
    assert refused.value.code == "no_takehome"
    assert "PA-BARE" in refused.value.message and "nothing to recall" not in refused.value.message
    assert not Recall.objects.exists()
    with translation.override("en"), pytest.raises(Refusal, match="holds no take-home bottles"):
        actions.recall_client(bare, users["clinician"])
    # A nurse may count a return, not make a recall.
    with pytest.raises(Refusal) as refused:
        actions.recall_client(holder("PA-OK"), users["nurse"])
    assert refused.value.code == "forbidden"
