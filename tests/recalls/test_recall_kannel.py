"""A recall from the draw to the client's handset through a real Kannel (bearerbox, smsbox
and fakesmsc, as the daily PIN run is tested), the return counted, and a recall left
unanswered: 25 hours later it is missed, take-home is suspended and the next dispense is
refused by the re-check.

Kannel is part of the product, so a machine without it fails this test instead of
skipping it: CI installs `kannel kannel-extras` (docs/sms-gateway.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from kannel_harness import received, start, wait_until
from recall_factories import FORBIDDEN, ready_request, stable_on_takehome

from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.messaging.models import SmsMessage, Status
from pingan.recalls import actions, queries
from pingan.recalls.models import Recall, RecallStatus
from pingan.takehome import actions as takehome
from pingan.takehome import suspensions

pytestmark = [pytest.mark.kannel, pytest.mark.django_db]

RECALL_ZH = "请您今天带上您的盒子到中心来一趟。"


def test_recall_through_kannel_then_a_missed_one_stops_the_next_dispense(
    kannel_dir, monday, users, monkeypatch, capsys, clock_at
):
    kept = stable_on_takehome("PA-K1", users, phone="13900000011")
    lapsed = stable_on_takehome("PA-K2", users, phone="13900000012")
    following = ready_request(lapsed, users, 2)  # the next bottles, approved already

    with override_settings(PINGAN_RECALL_SHARE=Decimal("1")):
        call_command("recalls", "draw")
    assert "2 of 2 drawn, 2 texted, 0 to phone" in capsys.readouterr().out

    env = start(kannel_dir)
    for name in ("PINGAN_KANNEL_URL", "PINGAN_KANNEL_USER", "PINGAN_KANNEL_PASSWORD"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("PINGAN_SMS_FROM", env["PINGAN_SMS_FROM"])
    call_command("sms", "send-due", "--now", "--backend", "kannel")
    assert "sent 2" in capsys.readouterr().out
    log = kannel_dir / "fakesmsc.log"
    assert wait_until(lambda: len(received(log)) >= 2), log.read_text(errors="replace")[-2000:]
    assert sorted(received(log)) == [("+8613900000011", RECALL_ZH), ("+8613900000012", RECALL_ZH)]
    for _to, text in received(log):
        assert not [word for word in FORBIDDEN if word in text.lower()]
    handed = SmsMessage.objects.get(client=kept).handed_at
    assert SmsMessage.objects.get(client=kept).status == Status.SENT
    first = Recall.objects.get(client=kept)
    assert queries.due_at(first) == handed + timedelta(hours=24)

    # PA-K1 comes the same afternoon with its three full bottles.
    clock_at(clock.now() + timedelta(hours=5))
    done = actions.record_return(first, 3, "180", users["nurse"])
    assert done.status == RecallStatus.RETURNED

    # PA-K2 does not come: 25 hours later the daily run closes the recall as missed.
    clock_at(handed + timedelta(hours=25))
    call_command("recalls", "close-overdue")
    assert "PA-K2 recalled 2026-06-01 10:00: missed" in capsys.readouterr().out
    missed = Recall.objects.get(client=lapsed)
    assert missed.status == RecallStatus.MISSED
    standing = suspensions.standing(lapsed)
    assert standing is not None and "not answered within 24 hours" in standing.reason
    assert suspensions.standing(kept) is None

    today = clock.today()
    with translation.override("en"), pytest.raises(Refusal) as refused:
        takehome.dispense_takehome(
            following, [today + timedelta(days=3), today + timedelta(days=4)], users["nurse"]
        )
    assert (
        "Take-home is suspended since 2026-06-02: Recall of 2026-06-01 not answered within"
        " 24 hours (told 2026-06-01 10:00) (review by 2026-06-09)." in refused.value.message
    )
