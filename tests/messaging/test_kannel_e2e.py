"""The daily PIN run through a real Kannel gateway to its fake handset (fakesmsc).

Kannel is part of the product, so a machine without it fails this test instead of
skipping it: CI installs `kannel kannel-extras` (docs/sms-gateway.md)."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from kannel_harness import free_port, received, start, wait_until
from sms_factories import takehome_client

from pingan.core import clock
from pingan.lockbox import pin
from pingan.messaging.models import SmsMessage, Status

pytestmark = [pytest.mark.kannel, pytest.mark.django_db(transaction=True)]


def test_send_due_through_kannel_exactly_once(kannel_dir, live_server, monkeypatch, capsys):
    today = clock.today()
    _zh, _b1, zh_secret = takehome_client("K-ZH", today, language="zh-hans", phone="13900000001")
    _en, _b2, en_secret = takehome_client("K-EN", today, language="en", phone="13900000002")
    takehome_client("K-NO", today, consents=(), phone="13900000003")
    expected = sorted(
        [
            ("+8613900000001", f"您今天的密码是 {pin.pin_for(zh_secret, today)}"),
            ("+8613900000002", f"Your code for today is {pin.pin_for(en_secret, today)}"),
        ]
    )
    monkeypatch.setenv("PINGAN_SMS_DLR_BASE", live_server.url)

    # Gateway down: the messages are queued and stay queued.
    monkeypatch.setenv("PINGAN_KANNEL_URL", f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms")
    call_command("sms", "send-due", "--now", "--backend", "kannel")
    assert "waiting to retry 2" in capsys.readouterr().out
    # Refused at the door: never in the gateway's hands.
    assert set(SmsMessage.objects.values_list("handed_at", flat=True)) == {None}
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {Status.QUEUED}

    # The gateway comes back: they go, once each, with the right text in each language.
    env = start(kannel_dir)
    for name in (
        "PINGAN_KANNEL_URL",
        "PINGAN_KANNEL_USER",
        "PINGAN_KANNEL_PASSWORD",
        "PINGAN_SMS_FROM",
    ):
        monkeypatch.setenv(name, env[name])
    call_command("sms", "send-due", "--now", "--backend", "kannel", "--retry-now")
    assert "sent 2" in capsys.readouterr().out
    log = kannel_dir / "fakesmsc.log"
    assert wait_until(lambda: len(received(log)) >= 2), log.read_text(errors="replace")[-2000:]
    assert sorted(received(log)) == expected

    # Kannel reports delivery to our endpoint, naming our own message.
    assert wait_until(lambda: SmsMessage.objects.filter(status=Status.DELIVERED).count() == 2), (
        list(SmsMessage.objects.values_list("status", "last_error"))
    )

    # A second run sends nothing new.
    call_command("sms", "send-due", "--now", "--backend", "kannel")
    assert "queued 0, already queued 2" in capsys.readouterr().out
    time.sleep(1.0)
    assert sorted(received(log)) == expected
