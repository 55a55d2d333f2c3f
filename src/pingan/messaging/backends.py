"""Where a text message goes: `console` (development), `file` (appends to the data
directory), `kannel` (the production gateway's HTTP sendsms interface).

Chosen by PINGAN_SMS_BACKEND. The Kannel settings come from the environment
(docs/sms-gateway.md): PINGAN_KANNEL_URL, PINGAN_KANNEL_USER, PINGAN_KANNEL_PASSWORD,
PINGAN_SMS_FROM and PINGAN_SMS_DLR_BASE (how Kannel reaches this server for delivery
reports). A backend never raises for a gateway problem: it answers with a `Handover`
that says whether the gateway took the message, refused it (safe to try again later), or
may have taken it without saying so (never to be sent again blind)."""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings

from pingan.core import clock


@dataclass(frozen=True)
class Handover:
    ok: bool
    gateway_id: str = ""
    error: str = ""
    # Not ok, and the request may still have reached the gateway (no answer in time, the
    # connection lost after sending): the outbox must not queue it again.
    uncertain: bool = False


@dataclass(frozen=True)
class Outgoing:
    """What a backend needs: never the model, so a backend cannot change outbox state."""

    to: str
    text: str
    reference: str  # our message id (its delivery-report token)


class Backend:
    name = "base"
    requests_reports = False  # asks the gateway for delivery reports

    def send(self, message: Outgoing) -> Handover:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Release connections at the end of a run."""


class ConsoleBackend(Backend):
    name = "console"

    def send(self, message: Outgoing) -> Handover:
        sys.stdout.write(f"SMS to {message.to}: {message.text}\n")
        return Handover(True, gateway_id="console")


class FileBackend(Backend):
    """One JSON line per message in <data dir>/sms-outbox.jsonl (tests, demos)."""

    name = "file"

    def __init__(self, path=None) -> None:
        self.path = path or settings.DATA_DIR / "sms-outbox.jsonl"

    def send(self, message: Outgoing) -> Handover:
        line = {
            "at": clock.now().isoformat(),
            "to": message.to,
            "text": message.text,
            "reference": message.reference,
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return Handover(True, gateway_id="file")


# Kannel's HTTP server closes a connection idle for 60 s; one idle for half that is not
# reused, so a request never races the gateway's close (and is then never in doubt).
IDLE_REUSE_S = 30.0


def _env(name: str, default: str = "") -> str:
    return getattr(settings, name, None) or os.environ.get(name, default)


class KannelBackend(Backend):
    """Kannel's `GET /cgi-bin/sendsms` over one kept-alive connection.

    `charset=UTF-8&coding=2` together make Chinese arrive intact (UCS-2); `dlr-mask=31`
    asks for every report, sent to our own URL carrying the message's token, because
    Kannel's own id (%I) differs per report."""

    name = "kannel"

    def __init__(self) -> None:
        url = urllib.parse.urlsplit(
            _env("PINGAN_KANNEL_URL", "http://127.0.0.1:13013/cgi-bin/sendsms")
        )
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = url.path or "/cgi-bin/sendsms"
        self.user = _env("PINGAN_KANNEL_USER")
        self.password = _env("PINGAN_KANNEL_PASSWORD")
        self.sender = _env("PINGAN_SMS_FROM")
        self.dlr_base = _env("PINGAN_SMS_DLR_BASE").rstrip("/")
        self.timeout = float(_env("PINGAN_KANNEL_TIMEOUT", "10"))
        self._conn: http.client.HTTPConnection | None = None
        self.requests_reports = bool(self.dlr_base)
        self._used_at = 0.0

    def query(self, message: Outgoing) -> str:
        params = {
            "username": self.user,
            "password": self.password,
            "to": message.to,
            "text": message.text,
            "charset": "UTF-8",
            "coding": "2" if any(ord(c) > 127 for c in message.text) else "0",
        }
        if self.sender:
            params["from"] = self.sender
        if self.dlr_base:
            params["dlr-mask"] = "31"
            params["dlr-url"] = (
                f"{self.dlr_base}/api/messaging/dlr/{message.reference}/?status=%d&at=%T"
            )
        return self.path + "?" + urllib.parse.urlencode(params)

    def send(self, message: Outgoing) -> Handover:
        target = self.query(message)
        if self._conn is not None and time.monotonic() - self._used_at > IDLE_REUSE_S:
            self.close()  # the gateway may be closing it: never find out mid-request
        for attempt in (1, 2):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            sent = False
            try:
                self._conn.request("GET", target)
                sent = True
                response = self._conn.getresponse()
                body = response.read().decode("utf-8", "replace").strip()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if not sent and reused and attempt == 1:
                    continue  # the request never left: a fresh connection, once
                if not sent:
                    return Handover(False, error=f"gateway unreachable: {exc}"[:300])
                # The request went out and no answer came back (a timeout, the connection
                # lost): the gateway may have taken it.
                return Handover(
                    False, error=f"no answer from the gateway: {exc}"[:300], uncertain=True
                )
            self._used_at = time.monotonic()
            if 200 <= response.status < 300 and body[:2] in ("0:", "3:"):
                return Handover(True, gateway_id=body[:100])
            return Handover(False, error=f"gateway answered {response.status}: {body}"[:300])
        return Handover(False, error="gateway unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


BACKENDS = {"console": ConsoleBackend, "file": FileBackend, "kannel": KannelBackend}


def get_backend(name: str | None = None) -> Backend:
    name = name or settings.SMS_BACKEND
    if name not in BACKENDS:
        raise ValueError(f"unknown SMS backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return BACKENDS[name]()
