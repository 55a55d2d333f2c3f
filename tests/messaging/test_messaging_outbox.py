"""The daily PIN run: who gets a text, what it says, and exactly once across crashes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from sms_factories import takehome_client

from pingan.core.domain import operator
from pingan.lockbox import pin
from pingan.lockbox.models import LockboxSettings
from pingan.messaging import actions, rules
from pingan.messaging.backends import Backend, Handover, Outgoing
from pingan.messaging.models import SmsMessage, Status

pytestmark = pytest.mark.django_db


class Recorder(Backend):
    """A gateway that remembers every message it was handed, and can die or refuse."""

    name = "recorder"

    def __init__(self, die_after: int | None = None, refuse: bool = False) -> None:
        self.sent: list[Outgoing] = []
        self.die_after = die_after
        self.refuse = refuse

    def send(self, message: Outgoing) -> Handover:
        if self.refuse:
            return Handover(False, error="gateway unreachable: connection refused")
        self.sent.append(message)
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise SystemExit("killed")  # the process dies inside the gateway call
        return Handover(True, gateway_id="0: Accepted for delivery")


@pytest.fixture
def today():
    return timezone.localdate()


def noon(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=12))


def test_texts_name_no_drug_or_treatment_in_either_language():
    for language in ("zh-hans", "en"):
        text = rules.pin_text(language, "482913").lower()
        assert "482913" in text
        assert not [w for w in rules.FORBIDDEN_WORDS if w in text]
    assert rules.pin_text("zh-hans", "482913") == "您今天的密码是 482913"
    assert rules.pin_text("en", "482913") == "Your code for today is 482913"
    for word in ("美沙酮", "戒毒", "治疗", "methadone", "treatment", "clinic", "drug"):
        assert word in rules.FORBIDDEN_WORDS


def test_queues_the_right_pin_in_the_clients_language(today):
    _c1, box1, secret1 = takehome_client("SMS-1", today, language="zh-hans", phone="139 0000 0001")
    _c2, box2, secret2 = takehome_client("SMS-2", today, language="en", phone="+86 139-0000-0002")
    run = actions.queue_due_pins(today, now=noon(today))
    assert run.queued == 2
    by_box = {m.box_id: m for m in SmsMessage.objects.all()}
    assert by_box[box1.pk].text == f"您今天的密码是 {pin.pin_for(secret1, today)}"
    assert by_box[box1.pk].to == "+8613900000001"
    assert by_box[box2.pk].text == f"Your code for today is {pin.pin_for(secret2, today)}"
    assert by_box[box2.pk].to == "+8613900000002"


def test_only_consenting_clients_with_a_phone_and_a_bottle_that_day(today):
    takehome_client("OK-1", today)
    takehome_client("NO-CONSENT", today, consents=())
    takehome_client("NO-PHONE", today, phone="")
    takehome_client("NO-BOTTLE", today, with_bottle=False)
    takehome_client("TOMORROW", today + timedelta(days=1))
    client, box, _s = takehome_client("REVOKED", today)
    client.consents.update(revoked_on=today)
    retired_client, retired_box, _s = takehome_client("RETIRED", today)
    from pingan.lockbox.actions import retire_box

    with operator():
        retire_box(retired_box, "broken")
    run = actions.queue_due_pins(today, now=noon(today))
    assert run.queued == 1
    assert run.skipped == {"no phone": 1}
    assert SmsMessage.objects.get().client.code == "OK-1"


def test_nothing_before_the_centres_hour_unless_told(today):
    takehome_client("EARLY", today)
    row = LockboxSettings.current()
    row.sms_hour = 8
    row.save()
    seven = timezone.make_aware(
        datetime.combine(today, datetime.min.time()).replace(hour=7, minute=59)
    )
    assert actions.queue_due_pins(today, now=seven).too_early
    assert not SmsMessage.objects.exists()
    assert actions.queue_due_pins(today, now=seven, ignore_hour=True).queued == 1


def test_queueing_is_idempotent(today):
    takehome_client("IDEM-1", today)
    assert actions.queue_due_pins(today, now=noon(today)).queued == 1
    again = actions.queue_due_pins(today, now=noon(today))
    assert (again.queued, again.already) == (0, 1)
    assert SmsMessage.objects.count() == 1


def test_phone_and_text_are_encrypted_at_rest(today):
    _c, _box, secret = takehome_client("ENC-1", today, phone="13912345678")
    actions.queue_due_pins(today, now=noon(today))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute('SELECT "to", text FROM messaging_smsmessage')
        to, text = cursor.fetchone()
    assert "13912345678" not in to
    assert pin.pin_for(secret, today) not in text


def test_every_due_pin_sent_exactly_once_across_a_crash(today):
    for i in range(6):
        takehome_client(f"CRASH-{i}", today, phone=f"1390000000{i}")
    now = noon(today)
    actions.queue_due_pins(today, now=now)
    first = Recorder(die_after=3)
    with pytest.raises(SystemExit):
        actions.send_queued(now=now, backend=first)
    assert len(first.sent) == 3
    # Killed inside the third gateway call: that message is "sending", the rest queued.
    assert SmsMessage.objects.filter(status=Status.SENT).count() == 2
    assert SmsMessage.objects.filter(status=Status.SENDING).count() == 1

    # The re-run (queue and send) sends the other three, not the three already handed over.
    second = Recorder()
    actions.queue_due_pins(today, now=now)
    run = actions.send_queued(now=now + timedelta(minutes=1), backend=second)
    assert run.sent == 3
    tokens = [m.reference for m in first.sent + second.sent]
    assert len(tokens) == len(set(tokens)) == 6
    assert SmsMessage.objects.count() == 6

    # A delivery report confirms the handover the crash interrupted: never sent again.
    sending = SmsMessage.objects.get(status=Status.SENDING)
    assert actions.record_delivery_report(sending.dlr_token, 8)
    third = Recorder()
    actions.send_queued(now=now + timedelta(hours=1), backend=third)
    assert third.sent == []
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_an_unconfirmed_handover_is_resent_after_the_grace_period(today):
    takehome_client("LOST-1", today)
    now = noon(today)
    actions.queue_due_pins(today, now=now)
    with pytest.raises(SystemExit):
        actions.send_queued(now=now, backend=Recorder(die_after=1))
    soon = Recorder()
    actions.send_queued(now=now + timedelta(minutes=1), backend=soon)
    assert soon.sent == []
    later = Recorder()
    actions.send_queued(now=now + rules.HANDOVER_GRACE + timedelta(minutes=1), backend=later)
    assert len(later.sent) == 1
    assert SmsMessage.objects.get().status == Status.SENT


def test_gateway_down_keeps_messages_queued_with_backoff_until_it_returns(today):
    takehome_client("DOWN-1", today)
    now = noon(today)
    actions.queue_due_pins(today, now=now)
    run = actions.send_queued(now=now, backend=Recorder(refuse=True))
    assert run.retry_later == 1
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts) == (Status.QUEUED, 1)
    assert "unreachable" in message.last_error
    assert message.next_attempt_at > now
    # Before the backoff ends nothing is tried; after it, the message goes.
    up = Recorder()
    actions.send_queued(now=now, backend=up)
    assert up.sent == []
    actions.send_queued(now=message.next_attempt_at + timedelta(seconds=1), backend=up)
    assert len(up.sent) == 1
    assert SmsMessage.objects.get().status == Status.SENT


def test_gives_up_after_max_attempts_and_staff_can_retry(today, users):
    takehome_client("FAIL-1", today)
    now = noon(today)
    actions.queue_due_pins(today, now=now)
    for _ in range(rules.MAX_ATTEMPTS):
        actions.send_queued(now=now, backend=Recorder(refuse=True), retry_now=True)
    message = SmsMessage.objects.get()
    assert message.status == Status.FAILED
    actions.retry(message, users["manager"])
    recorder = Recorder()
    actions.send_queued(now=now, backend=recorder)
    assert len(recorder.sent) == 1


def test_a_past_days_pin_is_not_sent(today):
    yesterday = today - timedelta(days=1)
    takehome_client("PAST-1", yesterday)
    actions.queue_due_pins(yesterday, now=noon(today))
    recorder = Recorder()
    run = actions.send_queued(now=noon(today), backend=recorder)
    assert (run.failed, recorder.sent) == (1, [])


def test_delivery_report_endpoint(client, today):
    takehome_client("DLR-1", today)
    actions.queue_due_pins(today, now=noon(today))
    actions.send_queued(now=noon(today), backend=Recorder())
    message = SmsMessage.objects.get()
    url = f"/api/messaging/dlr/{message.dlr_token}/"
    assert client.get(url, {"status": "8"}).status_code == 200
    assert client.get(url, {"status": "1"}).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert list(message.reports.values_list("status", flat=True)) == [8, 1]
    assert client.get("/api/messaging/dlr/" + "0" * 32 + "/", {"status": "1"}).status_code == 404
    assert client.get(url, {"status": "x"}).status_code == 400
    assert client.post(url, {"status": "1"}).status_code == 405


def test_send_due_command_with_file_backend(today, settings, capsys):
    takehome_client("CMD-1", today, language="en")
    call_command("sms", "send-due", "--now", "--backend", "file")
    out = capsys.readouterr().out
    assert "queued 1" in out and "sent 1" in out
    lines = (settings.DATA_DIR / "sms-outbox.jsonl").read_text().splitlines()
    assert any("Your code for today is" in line for line in lines)
    call_command("sms", "send-due", "--now", "--backend", "file")
    assert "queued 0, already queued 1" in capsys.readouterr().out


def test_parallel_composition_matches_the_serial_one(today):
    from pingan.core.crypto import keyring

    keys = keyring()
    jobs = [
        (
            i,
            keys.encrypt(pin.new_secret()),
            i,
            "en" if i % 2 else "zh-hans",
            keys.encrypt(f"1390000{i:04d}"),
        )
        for i in range(40)
    ] + [(99, keys.encrypt(pin.new_secret()), 99, "en", None)]
    counter = pin.day_number(today)
    serial = actions.compose(jobs, counter, parallel_from=10_000)
    parallel = actions.compose(jobs, counter, parallel_from=1)
    assert serial[-1] == parallel[-1] == "no phone"
    decrypt = [(r[0], keys.decrypt(r[1]), keys.decrypt(r[2])) for r in serial[:-1]]
    assert decrypt == [(r[0], keys.decrypt(r[1]), keys.decrypt(r[2])) for r in parallel[:-1]]


def test_outbox_screen_shows_failures_and_retries(client_as, today):
    takehome_client("SCR-1", today, phone="13900001234")
    actions.queue_due_pins(today, now=noon(today))
    message = SmsMessage.objects.get()
    SmsMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, last_error="gateway answered 403"
    )
    web = client_as("manager")
    page = web.get("/messaging/?status=failed").content.decode()
    assert "gateway answered 403" in page and "…1234" in page
    assert "13900001234" not in page and message.text not in page
    web.post(f"/messaging/{message.external_id}/retry/")
    assert SmsMessage.objects.get().status == Status.QUEUED
    assert client_as("clinician").get("/messaging/").status_code == 403
