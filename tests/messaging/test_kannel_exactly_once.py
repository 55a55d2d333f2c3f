"""Exactly one text per due PIN through a real Kannel behind a slow link: two daily runs at
once, and a run killed (`kill -9`) while the gateway holds its message.

Each `pingan sms send-due` is a separate process with its clock set by faketime; a proxy
in front of Kannel's sendsms port answers 150 ms after forwarding, the window in which a
second sender or a crash would show a duplicate. Submissions are counted twice: at the
proxy (every request that reached Kannel) and at the handset (what Kannel delivered)."""

from __future__ import annotations

import collections
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from kannel_harness import (
    SlowGateway,
    command_env,
    kill_hard,
    pingan_at,
    received,
    require_kannel,
    start,
    stop,
    wait_until,
)
from sms_factories import takehome_client

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.messaging import rules
from pingan.messaging.models import Reason, SmsMessage, Status

pytestmark = [pytest.mark.kannel, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # 14:30 in Asia/Shanghai
SEND_DUE = ["sms", "send-due", "--now"]


def due_pins(count: int) -> list[str]:
    """`count` clients with a box, a bottle for T0's day, consent and a phone; their numbers."""
    with clock.frozen(T0):
        day = clock.today()
        for i in range(count):
            takehome_client(f"EX-{i:03d}", day, phone=f"139{i:08d}")
    return [f"+86139{i:08d}" for i in range(count)]


@pytest.fixture(scope="module")
def kannel(tmp_path_factory):
    """One Kannel for the module (it takes seconds to start and stop); each test counts
    only what reaches the handset after it starts."""
    require_kannel()
    directory = tmp_path_factory.mktemp("kannel")
    env = start(directory)
    yield directory / "fakesmsc.log", env
    stop(directory)


@pytest.fixture
def slow_gateway(kannel):
    log, env = kannel
    proxy = SlowGateway(env["PINGAN_KANNEL_URL"], delay=0.15)
    since = log.stat().st_size if log.exists() else 0

    def handset(numbers: list[str]) -> collections.Counter:
        """What the handset received per number in this test, once every number has
        arrived and a little longer (a late duplicate would show)."""
        wait_until(lambda: {to for to, _ in received(log, since)} >= set(numbers))
        time.sleep(0.5)
        return collections.Counter(to for to, _ in received(log, since))

    # No PINGAN_SMS_DLR_BASE: no delivery reports.
    yield proxy, {**env, "PINGAN_KANNEL_URL": proxy.url}, handset
    proxy.close()


def finished(process) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def test_two_runs_at_once_send_each_pin_once(slow_gateway):
    proxy, gateway, handset = slow_gateway
    numbers = due_pins(40)
    env = command_env(gateway)

    runs = [pingan_at(T0, SEND_DUE, env), pingan_at(T0, SEND_DUE, env)]
    outputs = [finished(run) for run in runs]

    once = collections.Counter(numbers)
    assert proxy.submissions == once
    assert handset(numbers) == once
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    # Each run says what it did itself: one queued the 40, the other none; together they
    # sent 40, and the audit says the same.
    queued = sorted(int(re.search(r"queued (\d+),", out).group(1)) for out in outputs)
    sent = [int(re.search(r"^sent (\d+)", out, re.M).group(1)) for out in outputs]
    assert (queued, sum(sent)) == ([0, 40], 40), outputs
    audit = AuditEntry.objects.order_by("seq")
    assert sorted(e.detail["queued"] for e in audit.filter(action="sms_queue")) == [0, 40]
    assert sum(e.detail["sent"] for e in audit.filter(action="sms_send")) == 40


def test_a_run_killed_inside_the_gateway_call_sends_nothing_twice(slow_gateway):
    proxy, gateway, handset = slow_gateway
    numbers = due_pins(12)
    env = command_env(gateway)
    in_flight = threading.Event()
    proxy.on_forward = lambda total: total == 5 and in_flight.set()

    first = pingan_at(T0, SEND_DUE, env)
    assert in_flight.wait(60), first.communicate(timeout=5)
    kill_hard(first)  # Kannel has the fifth message; the run never heard back

    states = collections.Counter(SmsMessage.objects.values_list("status", flat=True))
    assert states == {Status.SENT: 4, Status.SENDING: 1, Status.QUEUED: 7}
    lost = SmsMessage.objects.get(status=Status.SENDING)
    assert lost.handed_at is not None

    # The next run, once the dead run's lease is over: it sends the seven still queued and
    # does not send the fifth again. Without delivery reports nothing can tell whether it
    # went, so it waits for staff, who see why.
    later = T0 + rules.HANDOVER_LEASE + timedelta(minutes=1)
    out = finished(pingan_at(later, SEND_DUE, env))
    assert re.search(r"^sent 7\b", out, re.M), out
    assert "needs checking 1" in out

    once = collections.Counter(numbers)
    assert proxy.submissions == once
    assert handset(numbers) == once
    lost.refresh_from_db()
    assert lost.status == Status.UNKNOWN
    assert lost.reason == Reason.INTERRUPTED
    states = collections.Counter(SmsMessage.objects.values_list("status", flat=True))
    assert states == {Status.SENT: 11, Status.UNKNOWN: 1}

    # And a third run leaves it alone too.
    finished(pingan_at(later + timedelta(minutes=10), SEND_DUE, env))
    time.sleep(0.3)
    assert proxy.submissions == once
