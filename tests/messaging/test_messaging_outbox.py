"""The daily PIN run: who gets a text, what it says, and exactly once across crashes,
concurrent runs and midnight.

Every test runs on Ping An's frozen clock (a fixed day at noon unless it says otherwise),
so none depends on the hour the suite happens to run at."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from sms_factories import takehome_client

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Refusal, operator
from pingan.lockbox import pin
from pingan.lockbox.models import LockboxSettings
from pingan.messaging import actions, composing, rules
from pingan.messaging.backends import Backend, Handover, Outgoing
from pingan.messaging.models import Reason, SmsMessage, Status

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 2)
NOON = datetime(2026, 12, 2, 12, 0)  # the centre's local time


class Recorder(Backend):
    """A gateway that remembers every message it was handed, and can die, refuse, fall
    silent, or let something happen while it holds a message (`during`)."""

    name = "recorder"

    def __init__(
        self,
        die_after: int | None = None,
        refuse: bool = False,
        silent: bool = False,
        during=None,
        reports: bool = False,
    ) -> None:
        self.sent: list[Outgoing] = []
        self.die_after = die_after
        self.refuse = refuse
        self.silent = silent
        self.during = during
        self.requests_reports = reports

    def send(self, message: Outgoing) -> Handover:
        if self.refuse:
            return Handover(False, error="gateway unreachable: connection refused")
        self.sent.append(message)
        if self.during is not None:
            self.during(message)
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise SystemExit("killed")  # the process dies inside the gateway call
        if self.silent:
            return Handover(False, error="no answer from the gateway: timed out", uncertain=True)
        return Handover(True, gateway_id="0: Accepted for delivery")


@pytest.fixture
def noon(clock_at):
    return clock_at(NOON)


def statuses() -> dict[str, int]:
    found: dict[str, int] = {}
    for status in SmsMessage.objects.values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


def test_texts_name_no_drug_or_treatment_in_either_language():
    for language in ("zh-hans", "en"):
        text = rules.pin_text(language, "482913").lower()
        assert "482913" in text
        assert not [w for w in rules.FORBIDDEN_WORDS if w in text]
    assert rules.pin_text("zh-hans", "482913") == "您今天的密码是 482913"
    assert rules.pin_text("en", "482913") == "Your code for today is 482913"
    for word in ("美沙酮", "戒毒", "治疗", "methadone", "treatment", "clinic", "drug"):
        assert word in rules.FORBIDDEN_WORDS


def test_queues_the_right_pin_in_the_clients_language(noon):
    _c1, box1, secret1 = takehome_client("SMS-1", DAY, language="zh-hans", phone="139 0000 0001")
    _c2, box2, secret2 = takehome_client("SMS-2", DAY, language="en", phone="+86 139-0000-0002")
    run = actions.queue_due_pins(DAY)
    assert run.queued == 2
    by_box = {m.box_id: m for m in SmsMessage.objects.all()}
    assert by_box[box1.pk].text == f"您今天的密码是 {pin.pin_for(secret1, DAY)}"
    assert by_box[box1.pk].to == "+8613900000001"
    assert by_box[box2.pk].text == f"Your code for today is {pin.pin_for(secret2, DAY)}"
    assert by_box[box2.pk].to == "+8613900000002"


def test_only_consenting_clients_with_a_phone_and_a_bottle_that_day(noon):
    takehome_client("OK-1", DAY)
    takehome_client("NO-CONSENT", DAY, consents=())
    takehome_client("NO-PHONE", DAY, phone="")
    takehome_client("NO-BOTTLE", DAY, with_bottle=False)
    takehome_client("TOMORROW", DAY + timedelta(days=1))
    client, box, _s = takehome_client("REVOKED", DAY)
    client.consents.update(revoked_on=DAY)
    retired_client, retired_box, _s = takehome_client("RETIRED", DAY)
    from pingan.lockbox.actions import retire_box

    with operator():
        retire_box(retired_box, "broken")
    run = actions.queue_due_pins(DAY)
    assert run.queued == 1
    assert run.skipped == {"no phone": 1}
    assert SmsMessage.objects.get().client.code == "OK-1"


def test_nothing_before_the_centres_hour_unless_told(clock_at):
    clock_at(datetime(2026, 12, 2, 7, 59))
    takehome_client("EARLY", DAY)
    row = LockboxSettings.current()
    row.sms_hour = 8
    row.save()
    assert actions.queue_due_pins(DAY).too_early
    assert not SmsMessage.objects.exists()
    assert actions.queue_due_pins(DAY, ignore_hour=True).queued == 1


def test_queueing_is_idempotent_and_counts_only_its_own_rows(noon):
    takehome_client("IDEM-1", DAY)
    takehome_client("IDEM-2", DAY)
    assert actions.queue_due_pins(DAY).queued == 2
    again = actions.queue_due_pins(DAY)
    assert (again.queued, again.already) == (0, 2)
    assert SmsMessage.objects.count() == 2
    # A concurrent run that composed the same messages before the first committed inserts
    # nothing, and says so.
    rows = [r for r in composing.compose(_jobs(DAY), pin.day_number(DAY))]
    assert len(rows) == 2 and composing.insert_queued(rows, DAY, NOON) == 0
    queued = [e.detail["queued"] for e in AuditEntry.objects.filter(action="sms_queue")]
    assert queued == [2, 0]


def _jobs(day):
    from pingan.registry.models import Identity

    phones = dict(Identity.objects.values_list("client_id", actions._stored("phone")))
    return [
        (pk, secret, cid, lang, phones.get(cid))
        for pk, secret, cid, lang in actions.due_boxes(day).values_list(
            "pk", actions._stored("secret"), "client_id", "client__language"
        )
    ]


def test_no_pins_are_queued_for_a_past_day(noon):
    takehome_client("OLD-1", DAY - timedelta(days=1))
    run = actions.queue_due_pins(DAY - timedelta(days=1))
    assert run.day_passed and run.queued == 0
    assert not SmsMessage.objects.exists()


def test_phone_and_text_are_encrypted_at_rest(noon):
    _c, _box, secret = takehome_client("ENC-1", DAY, phone="13912345678")
    actions.queue_due_pins(DAY)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute('SELECT "to", text FROM messaging_smsmessage')
        to, text = cursor.fetchone()
    assert "13912345678" not in to
    assert pin.pin_for(secret, DAY) not in text


def test_a_run_killed_inside_the_gateway_call_never_resends_without_a_report(noon):
    for i in range(6):
        takehome_client(f"CRASH-{i}", DAY, phone=f"1390000000{i}")
    actions.queue_due_pins(DAY)
    first = Recorder(die_after=3)
    with pytest.raises(SystemExit):
        actions.send_queued(backend=first)
    # Killed inside the third gateway call: that message is held by the dead run.
    assert statuses() == {Status.SENT: 2, Status.SENDING: 1, Status.QUEUED: 3}
    lost = SmsMessage.objects.get(status=Status.SENDING)
    assert lost.lease_owner and lost.lease_until == clock.now() + rules.HANDOVER_LEASE

    # While the lease runs, the next run sends the rest and leaves it alone.
    noon.advance(minutes=1)
    second = Recorder()
    run = actions.queue_due_pins(DAY)
    assert (run.queued, run.already) == (0, 6)
    run = actions.send_queued(backend=second)
    assert (run.sent, run.unknown) == (3, 0)
    # After it, no delivery report was asked for, so nothing can tell: staff decide.
    noon.advance(rules.HANDOVER_LEASE)
    third = Recorder()
    run = actions.send_queued(backend=third)
    assert (run.sent, run.unknown, third.sent) == (0, 1, [])
    lost.refresh_from_db()
    assert (lost.status, lost.reason) == (Status.UNKNOWN, Reason.INTERRUPTED)
    tokens = [m.reference for m in first.sent + second.sent]
    assert len(tokens) == len(set(tokens)) == 6
    # Hours later it is still not sent again.
    noon.advance(hours=3)
    later = Recorder()
    actions.send_queued(backend=later)
    assert later.sent == []
    reconciled = AuditEntry.objects.get(action="sms_reconcile")
    assert reconciled.detail["unknown"] == [str(lost.external_id)]


def test_with_delivery_reports_a_stopped_runs_message_is_settled_by_its_report(noon):
    for i in range(2):
        takehome_client(f"DLR-{i}", DAY, phone=f"1390000001{i}")
    actions.queue_due_pins(DAY)
    with pytest.raises(SystemExit):
        actions.send_queued(backend=Recorder(die_after=1, reports=True))
    lost = SmsMessage.objects.get(status=Status.SENDING)
    assert lost.dlr_requested
    # Kannel reports "buffered" (4): the gateway has it, whatever the status says.
    assert actions.record_delivery_report(lost.dlr_token, 4)
    noon.advance(rules.HANDOVER_LEASE + timedelta(seconds=1))
    after = Recorder(reports=True)
    run = actions.send_queued(backend=after)
    assert (run.settled, run.sent, len(after.sent)) == (1, 1, 1)
    lost.refresh_from_db()
    assert lost.status == Status.SENT and lost.lease_owner == ""


def test_with_delivery_reports_and_none_coming_staff_decide_after_the_grace(noon):
    takehome_client("NOREP-1", DAY)
    actions.queue_due_pins(DAY)
    with pytest.raises(SystemExit):
        actions.send_queued(backend=Recorder(die_after=1, reports=True))
    noon.advance(rules.HANDOVER_LEASE + timedelta(seconds=1))
    run = actions.send_queued(backend=Recorder(reports=True))
    assert run.unknown == 0
    assert SmsMessage.objects.get().status == Status.SENDING  # a report may still come
    noon.advance(rules.REPORT_GRACE)
    run = actions.send_queued(backend=Recorder(reports=True))
    message = SmsMessage.objects.get()
    assert (run.unknown, message.status, message.reason) == (1, Status.UNKNOWN, Reason.NO_REPORT)
    # A report arriving even now settles it.
    actions.record_delivery_report(message.dlr_token, 1)
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_gateway_that_takes_the_request_and_never_answers_is_not_retried(noon):
    takehome_client("SILENT-1", DAY)
    actions.queue_due_pins(DAY)
    run = actions.send_queued(backend=Recorder(silent=True))
    message = SmsMessage.objects.get()
    assert (run.unknown, run.retry_later) == (1, 0)
    assert (message.status, message.reason) == (Status.UNKNOWN, Reason.NO_ANSWER)
    noon.advance(hours=1)
    again = Recorder()
    actions.send_queued(backend=again, retry_now=True)
    assert again.sent == []


def test_a_second_run_never_takes_the_message_the_first_holds(noon):
    """Two runs at once, made deterministic: while the first run's gateway call holds a
    message, a whole second run happens. It sends the others, never the held one, and the
    first run then finds them taken."""
    for i in range(4):
        takehome_client(f"TWO-{i}", DAY, phone=f"1390000002{i}")
    actions.queue_due_pins(DAY)
    second = Recorder()
    runs = []

    def second_run(_message):
        if not runs:
            runs.append(actions.send_queued(backend=second))

    first = Recorder(during=second_run)
    run = actions.send_queued(backend=first)
    assert (run.sent, runs[0].sent) == (1, 3)
    assert len(first.sent) == 1 and len(second.sent) == 3
    assert first.sent[0].reference not in {m.reference for m in second.sent}
    assert statuses() == {Status.SENT: 4}
    owners = {e.detail["run"] for e in AuditEntry.objects.filter(action="sms_handover")}
    assert len(owners) == 2
    sent = sorted(e.detail["sent"] for e in AuditEntry.objects.filter(action="sms_send"))
    assert sent == [1, 3]


def test_a_run_that_goes_past_midnight_stops_sending_yesterdays_codes(clock_at):
    now = clock_at(datetime(2026, 12, 2, 23, 59, 0))
    for i in range(6):
        takehome_client(f"MID-{i}", DAY, phone=f"1390000003{i}")
    actions.queue_due_pins(DAY)
    # A slow gateway: each handover takes 25 seconds; the fourth would be on 3 December.
    backend = Recorder(during=lambda _m: now.advance(seconds=25))
    run = actions.send_queued(backend=backend)
    assert (run.sent, run.expired, len(backend.sent)) == (3, 3, 3)
    sent = SmsMessage.objects.filter(status=Status.SENT).order_by("handed_at")
    assert [m.handed_at for m in sent] == [
        datetime(2026, 12, 2, 15, 59, s, tzinfo=UTC) for s in (0, 25, 50)
    ]
    expired = SmsMessage.objects.filter(status=Status.EXPIRED)
    assert {m.reason for m in expired} == {Reason.DAY_PASSED}
    assert {m.handed_at for m in expired} == {None}
    assert AuditEntry.objects.get(action="sms_send").detail["expired"] == 3


def test_a_past_days_queued_pin_expires_and_cannot_be_retried(clock_at, users):
    now = clock_at(datetime(2026, 12, 2, 20, 0))
    takehome_client("PAST-1", DAY)
    actions.queue_due_pins(DAY)
    actions.send_queued(backend=Recorder(refuse=True))
    now.set(datetime(2026, 12, 3, 9, 0))
    recorder = Recorder()
    run = actions.send_queued(backend=recorder)
    assert (run.expired, recorder.sent) == (1, [])
    message = SmsMessage.objects.get()
    assert (message.status, message.reason) == (Status.EXPIRED, Reason.DAY_PASSED)
    with pytest.raises(Refusal):
        actions.retry(message, users["manager"])


def test_gateway_down_keeps_messages_queued_with_backoff_until_it_returns(noon):
    takehome_client("DOWN-1", DAY)
    actions.queue_due_pins(DAY)
    run = actions.send_queued(backend=Recorder(refuse=True))
    assert run.retry_later == 1
    message = SmsMessage.objects.get()
    assert (message.status, message.attempts, message.handed_at) == (Status.QUEUED, 1, None)
    assert "unreachable" in message.last_error
    assert message.next_attempt_at > clock.now()
    # Before the backoff ends nothing is tried; after it, the message goes.
    up = Recorder()
    actions.send_queued(backend=up)
    assert up.sent == []
    noon.set(message.next_attempt_at + timedelta(seconds=1))
    actions.send_queued(backend=up)
    assert len(up.sent) == 1
    assert SmsMessage.objects.get().status == Status.SENT


def test_gives_up_after_max_attempts_and_staff_can_retry(noon, users):
    takehome_client("FAIL-1", DAY)
    actions.queue_due_pins(DAY)
    for _ in range(rules.MAX_ATTEMPTS):
        actions.send_queued(backend=Recorder(refuse=True), retry_now=True)
    message = SmsMessage.objects.get()
    assert message.status == Status.FAILED
    actions.retry(message, users["manager"])
    recorder = Recorder()
    actions.send_queued(backend=recorder)
    assert len(recorder.sent) == 1


def test_staff_confirm_or_resend_a_message_that_needs_checking(noon, users):
    takehome_client("CHK-1", DAY)
    takehome_client("CHK-2", DAY)
    actions.queue_due_pins(DAY)
    actions.send_queued(backend=Recorder(silent=True))
    first, second = SmsMessage.objects.order_by("pk")
    actions.confirm_sent(first, users["manager"])
    actions.retry(second, users["manager"])
    recorder = Recorder()
    actions.send_queued(backend=recorder)
    assert [m.reference for m in recorder.sent] == [second.dlr_token]
    first.refresh_from_db()
    assert (first.status, first.reason) == (Status.SENT, Reason.CONFIRMED)
    with pytest.raises(Refusal):
        actions.confirm_sent(first, users["manager"])
    assert {"sms_confirm", "sms_retry"} <= set(AuditEntry.objects.values_list("action", flat=True))


def test_delivery_report_endpoint(client, noon):
    takehome_client("DLR-1", DAY)
    actions.queue_due_pins(DAY)
    actions.send_queued(backend=Recorder())
    message = SmsMessage.objects.get()
    url = f"/api/messaging/dlr/{message.dlr_token}/"
    assert client.get(url, {"status": "8"}).status_code == 200
    assert client.get(url, {"status": "1", "at": "2026-12-02 12:00:01"}).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert list(message.reports.values_list("status", flat=True)) == [8, 1]
    assert client.get("/api/messaging/dlr/" + "0" * 32 + "/", {"status": "1"}).status_code == 404
    assert client.post(url, {"status": "1"}).status_code == 405


@pytest.mark.parametrize(
    "status",
    [
        "",
        "x",
        "--1",
        "-1",
        "+1",
        "²",
        "１",
        "٣",
        "0",
        "3",
        "32",
        "99999",
        "1.0",
        " 1",
        "1e3",
        "8\x00",
    ],
)
def test_delivery_report_status_is_validated_strictly(client, noon, status):
    takehome_client("DLRV-1", DAY)
    actions.queue_due_pins(DAY)
    message = SmsMessage.objects.get()
    answer = client.get(f"/api/messaging/dlr/{message.dlr_token}/", {"status": status})
    assert answer.status_code == 400
    assert not message.reports.exists()


def test_delivery_report_note_keeps_only_printable_text(client, noon):
    takehome_client("DLRN-1", DAY)
    actions.queue_due_pins(DAY)
    message = SmsMessage.objects.get()
    url = f"/api/messaging/dlr/{message.dlr_token}/"
    # A NUL anywhere in a request is refused before any view runs; nothing is stored.
    assert client.get(url, {"status": "8", "at": "12:00\x00:01"}).status_code == 400
    assert not message.reports.exists()
    assert client.get(url, {"status": "8", "at": "12:00\t:01" + "x" * 500}).status_code == 200
    detail = message.reports.get().detail
    assert "\t" not in detail and len(detail) <= 200


def test_send_due_command_with_file_backend(noon, settings, capsys):
    takehome_client("CMD-1", DAY, language="en")
    call_command("sms", "send-due", "--now", "--backend", "file")
    out = capsys.readouterr().out
    assert "queued 1" in out and "sent 1" in out
    lines = (settings.DATA_DIR / "sms-outbox.jsonl").read_text().splitlines()
    assert any("Your code for today is" in line for line in lines)
    call_command("sms", "send-due", "--now", "--backend", "file")
    assert "queued 0, already queued 1" in capsys.readouterr().out
    call_command("sms", "send-due", "--now", "--backend", "file", "--date", "2026-12-01")
    assert "2026-12-01 has passed: nothing queued" in capsys.readouterr().out


def test_parallel_composition_matches_the_serial_one():
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
    counter = pin.day_number(DAY)
    serial = composing.compose(jobs, counter, parallel_from=10_000)
    parallel = composing.compose(jobs, counter, parallel_from=1)
    assert serial[-1] == parallel[-1] == "no phone"
    decrypt = [(r[0], keys.decrypt(r[1]), keys.decrypt(r[2])) for r in serial[:-1]]
    assert decrypt == [(r[0], keys.decrypt(r[1]), keys.decrypt(r[2])) for r in parallel[:-1]]


def test_outbox_screen_shows_failures_and_retries(client_as, noon):
    takehome_client("SCR-1", DAY, phone="13900001234")
    actions.queue_due_pins(DAY)
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


def test_outbox_screen_explains_a_message_that_needs_checking(client_as, noon):
    takehome_client("SCR-2", DAY, phone="13900005678")
    actions.queue_due_pins(DAY)
    actions.send_queued(backend=Recorder(silent=True))
    message = SmsMessage.objects.get()
    web = client_as("manager")
    page = web.get("/messaging/?status=unknown").content.decode()
    assert "1 message needs checking" in page or "1 条短信需要核实" in page
    assert f"/messaging/{message.external_id}/confirm/" in page
    web.post(f"/messaging/{message.external_id}/confirm/")
    assert SmsMessage.objects.get().status == Status.SENT
    # Confirming twice is refused with a message, not an error page.
    answer = web.post(f"/messaging/{message.external_id}/confirm/", follow=True)
    assert answer.status_code == 200
