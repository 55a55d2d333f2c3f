"""The daily PIN run through a real Kannel gateway to its fake handset (fakesmsc).

Kannel is part of the product, so a machine without it fails this test instead of
skipping it: CI installs `kannel kannel-extras` (docs/sms-gateway.md)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from sms_factories import takehome_client

from pingan.lockbox import pin
from pingan.messaging.models import SmsMessage, Status

pytestmark = [pytest.mark.kannel, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kannel" / "kannel.sh"
LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (text|ucs-2) (.*)>\s*$")


def received(log: Path) -> list[tuple[str, str]]:
    """(to, text) of every message the handset logged; UCS-2 arrives as form-encoded UTF-16BE
    (a space byte written "+")."""
    out = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        match = LINE.search(line)
        if match:
            _sender, to, coding, payload = match.groups()
            if coding == "ucs-2":
                raw = urllib.parse.unquote_to_bytes(payload.replace("+", "%20"))
                payload = raw.decode("utf-16-be")
            out.append((to, payload))
    return out


def wait_until(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kannel_dir(tmp_path):
    if (
        not Path("/usr/sbin/bearerbox").exists()
        or not Path("/usr/lib/kannel/test/fakesmsc").exists()
    ):
        pytest.fail("Kannel is not installed: apt-get install -y kannel kannel-extras")
    if shutil.which("curl") is None:
        pytest.fail("curl is needed by scripts/kannel/kannel.sh")
    directory = tmp_path / "kannel"
    yield directory
    subprocess.run([str(SCRIPT), "stop", str(directory)], check=False, timeout=30)


def start(directory: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(SCRIPT), "start", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return dict(line.split("=", 1) for line in (directory / "env").read_text().split())


def test_send_due_through_kannel_exactly_once(kannel_dir, live_server, monkeypatch, capsys):
    today = timezone.localdate()
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
