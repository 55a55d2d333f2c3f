"""The regional benchmark over HTTP: `pingan serve` (waitress, one process) on 127.0.0.1
in front of the scratch database, and the same 4 worker processes sending the nurse's
second click, `POST dosing:dose` with `HX-Request`, each as the signed-in nurse of the
client's centre (a session per centre, made as `force_login` makes it, with that centre as
the session's current centre) and a CSRF token, over one keep-alive connection each.

A dose counts when the response says so (`HX-Trigger: dosed`, set only for a recorded
dose); a second attempt is answered with the row as it stands. Server-side work included:
the middleware, the session, the permission check, the action and the re-rendered row.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from ._dosing_pg import _setup


def _sessions(url: str, ids: list[int], out) -> None:
    """Per centre, the nurse's session cookie; per client, the dose URL and the centre."""
    _setup(url)
    from django.conf import settings
    from django.test import Client as Browser
    from django.urls import reverse

    from pingan.region.current import SESSION_KEY
    from pingan.registry.models import Client

    from ._dosing_pg import _nurses

    cookies = {}
    for centre_id, nurse in _nurses(True).items():
        browser = Browser()
        browser.force_login(nurse, backend="django.contrib.auth.backends.ModelBackend")
        session = browser.session
        session[SESSION_KEY] = centre_id
        session.save()
        cookies[centre_id] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    paths = {
        pk: (reverse("dosing:dose", args=[external_id]), centre_id)
        for pk, external_id, centre_id in Client.objects.filter(pk__in=ids).values_list(
            "pk", "external_id", "centre_id"
        )
    }
    out.put((cookies, paths, settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(url: str, threads: int = 4) -> tuple[subprocess.Popen, int]:
    """`pingan serve` on the scratch database, under the bench's (demo) settings and data
    directory; returns once it answers and its start-up work (the indicators it computes
    before anyone asks) has gone quiet, so the timed run does not pay for it."""
    port = _free_port()
    env = {**os.environ, "PINGAN_DATABASE_URL": url}
    env.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings.demo")
    command = [str(Path(sys.executable).with_name("pingan")), "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--threads", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"pingan serve stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.5)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        before = _cpu_of(server.pid)
        time.sleep(1)
        if _cpu_of(server.pid) - before > 0.05:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 2:
            break
    return server, port


def _post(url: str, number: int, ids: list[int], seconds: float, barrier, out, how) -> None:
    """One worker: the dose POSTs for its clients, timed, over one keep-alive connection."""
    port, cookies, paths, session_cookie, csrf_cookie = how
    token = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    tally = {"ok": 0, "already_dosed": 0, "other_refusal": 0, "errors": 0}
    latencies = []
    barrier.wait()
    cpu = time.process_time()
    started = time.perf_counter()
    for pk in ids:
        if time.perf_counter() - started >= seconds:
            break
        path, centre_id = paths[pk]
        headers = {
            "Cookie": f"{session_cookie}={cookies[centre_id]}; {csrf_cookie}={token}",
            "X-CSRFToken": token,
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body="", headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            tally["errors"] += 1
            tally.setdefault("error_samples", []).append(repr(error)[:200])
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status != 200:
            tally["errors"] += 1
            samples = tally.setdefault("error_samples", [])
            if len(samples) < 5:
                samples.append(f"HTTP {response.status}: {body[:200]!r}")
        elif "dosed" in (response.getheader("HX-Trigger") or ""):
            tally["ok"] += 1
        elif b'data-state="dosed"' in body:
            tally["already_dosed"] += 1
        else:
            tally["other_refusal"] += 1
    tally["elapsed"] = time.perf_counter() - started
    tally["cpu_s"] = time.process_time() - cpu
    tally["server_cpu_s"] = None
    tally["latencies"] = latencies
    out.put(tally)


@contextlib.contextmanager
def serving(ctx, scratch: str, ids: list[int]):
    """The sessions made and the server started for the clients `ids`; yields what the
    workers need (stops the server afterwards)."""
    from ._dosing_pg import _in_process

    cookies, paths, session_cookie, csrf_cookie = _in_process(ctx, _sessions, scratch, ids)
    server, port = start_server(scratch)
    try:
        yield server, (port, cookies, paths, session_cookie, csrf_cookie)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def timed(ctx, scratch: str, lists: list[list[int]], seconds: float, served) -> list[dict]:
    """Time the POSTs of `lists` (one process each) against the running server; the
    server process's CPU over the run goes into the first tally."""
    server, how = served
    out = ctx.Queue()
    barrier = ctx.Barrier(len(lists))
    procs = [
        ctx.Process(target=_post, args=(scratch, n, x, seconds, barrier, out, how))
        for n, x in enumerate(lists)
    ]
    server_cpu = _cpu_of(server.pid)
    for p in procs:
        p.start()
    tallies = [out.get() for _ in procs]
    for p in procs:
        p.join()
    tallies[0]["http_server_cpu_s"] = _cpu_of(server.pid) - server_cpu
    return tallies
