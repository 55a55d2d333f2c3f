"""What the Kannel tests share: starting the gateway, reading the handset's log, a slow
gateway, and `pingan` commands run as separate processes against the test database.

Kannel is part of the product, so a machine without it fails these tests instead of
skipping them: CI installs `kannel kannel-extras` (docs/sms-gateway.md)."""

from __future__ import annotations

import collections
import http.client
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kannel" / "kannel.sh"
PINGAN = str(Path(sys.executable).parent / "pingan")
LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (text|ucs-2) (.*)>\s*$")


def require_kannel() -> None:
    if (
        not Path("/usr/sbin/bearerbox").exists()
        or not Path("/usr/lib/kannel/test/fakesmsc").exists()
    ):
        pytest.fail("Kannel is not installed: apt-get install -y kannel kannel-extras")
    if shutil.which("curl") is None:
        pytest.fail("curl is needed by scripts/kannel/kannel.sh")


def start(directory: Path) -> dict[str, str]:
    """Gateway and handset up on free loopback ports; the PINGAN_* variables to reach it."""
    done = subprocess.run(
        [str(SCRIPT), "start", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return dict(line.split("=", 1) for line in (directory / "env").read_text().split())


def stop(directory: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(directory)], check=False, timeout=30)


def received(log: Path, since: int = 0) -> list[tuple[str, str]]:
    """(to, text) of every message the handset logged (after byte `since` of its log);
    UCS-2 arrives as form-encoded UTF-16BE (a space byte written "+")."""
    out = []
    text = log.read_bytes()[since:].decode(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        match = LINE.search(line)
        if match:
            _sender, to, coding, payload = match.groups()
            if coding == "ucs-2":
                raw = urllib.parse.unquote_to_bytes(payload.replace("+", "%20"))
                payload = raw.decode("utf-16-be")
            out.append((to, payload))
    return out


def wait_until(check: Callable, seconds: float = 15.0):
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


class SlowGateway:
    """A threaded HTTP proxy in front of Kannel's sendsms port: it forwards each request at
    once and answers only `delay` seconds later. That widens the window between "the
    gateway took it" and "recorded as sent", where two senders or a killed one would show
    a duplicate that a fast gateway hides.

    `submissions` counts every forwarded request per destination number; `on_forward(n)` is
    called with the running total after each forward, before the delay."""

    def __init__(self, upstream: str, delay: float = 0.15) -> None:
        target = urllib.parse.urlsplit(upstream)
        self.upstream = (target.hostname, target.port)
        self.delay = delay
        self.submissions: collections.Counter[str] = collections.Counter()
        self.total = 0
        self.on_forward: Callable[[int], None] = lambda n: None
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the backend uses it

            def do_GET(self):  # noqa: N802 - the standard library's name
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=10)
                try:
                    upstream.request("GET", self.path)
                    answer = upstream.getresponse()
                    status, body = answer.status, answer.read()
                finally:
                    upstream.close()
                with proxy._lock:
                    proxy.submissions[query.get("to", [""])[0]] += 1
                    proxy.total += 1
                    total = proxy.total
                proxy.on_forward(total)
                time.sleep(proxy.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the sender was killed while waiting: nobody to answer
                    self.close_connection = True

            def log_message(self, *args):
                """Silent: the proxy counts requests itself; access lines would only fill
                the test output."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/sendsms"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def database_url() -> str:
    """The test database as a PINGAN_DATABASE_URL, for commands run as separate processes
    (the tests that use it commit their data: `django_db(transaction=True)`)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = urllib.parse.quote(db["USER"] or "")
    password = ":" + urllib.parse.quote(db["PASSWORD"]) if db["PASSWORD"] else ""
    host = urllib.parse.quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def command_env(gateway: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment of a `pingan` process working on this test's database and keys."""
    from django.conf import settings

    from pingan.core.crypto import load_keys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env.update(
        DJANGO_SETTINGS_MODULE="pingan.settings.test",
        PINGAN_DATA_DIR=str(settings.DATA_DIR),
        PINGAN_DATABASE_URL=database_url(),
        PINGAN_FIELD_KEYS=",".join(k.decode("ascii") for k in load_keys()),
        PINGAN_SECRET_KEY=settings.SECRET_KEY,
        PINGAN_TIME_ZONE=settings.TIME_ZONE,
        TZ="UTC",  # faketime reads its start instant in the process's zone
    )
    env.update(gateway)
    env.update(extra)
    return env


def pingan_at(instant: datetime, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """`pingan ARGS` in its own process, its clock started at `instant` (UTC) by faketime."""
    when = instant.strftime("%Y-%m-%d %H:%M:%S")
    return subprocess.Popen(
        ["faketime", "-f", f"@{when}", PINGAN, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_hard(wrapper: subprocess.Popen) -> None:
    """`kill -9` the command itself (faketime's child), then reap the wrapper."""
    children = Path(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children").read_text().split()
    assert children, "the command under faketime has not started"
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    wrapper.wait(timeout=10)
