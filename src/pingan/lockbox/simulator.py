"""The reference box: what a lockbox's firmware does, as runnable Python.

It keeps its own clock, checks a typed PIN against the PIN it derives itself (no network),
locks for 15 minutes after 5 wrong PINs in a row and reports it, logs events, and uploads
them signed with a strictly increasing `seq`. Firmware authors port this class; the
end-to-end tests drive it against the real server (docs/lockbox-protocol.md)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from . import pin

MAX_WRONG = 5
LOCKOUT = timedelta(minutes=15)


@dataclass
class BoxState:
    """What the box keeps in flash across power cycles."""

    seq: int = -1
    wrong: int = 0
    locked_until: str | None = None
    pending: list[dict] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class UploadResult:
    status: int
    body: dict


class ReferenceBox:
    def __init__(
        self,
        box_id: str,
        secret_hex: str,
        tz: tzinfo | str = "Asia/Shanghai",
        clock: Callable[[], datetime] | None = None,
        state: BoxState | None = None,
    ) -> None:
        pin.secret_bytes(secret_hex)  # refuse a malformed secret at power-on
        self.box_id = box_id
        self.secret = secret_hex
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.state = state or BoxState()

    # --- the keypad ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def locked(self) -> bool:
        until = self.state.locked_until
        return until is not None and self.now() < datetime.fromisoformat(until)

    def enter_pin(self, typed: str) -> str:
        """'opened', 'wrong' or 'locked'. The PIN is the HOTP of the box's own local day."""
        if self.locked():
            return "locked"
        now = self.now()
        if typed == pin.pin_for(self.secret, now.date()):
            self.state.wrong = 0
            self.state.locked_until = None
            self._event("opened")
            return "opened"
        self.state.wrong += 1
        self._event("pin_failed")
        if self.state.wrong >= MAX_WRONG:
            self.state.wrong = 0
            self.state.locked_until = (now + LOCKOUT).isoformat()
            self._event("locked_out")
            return "locked"
        return "wrong"

    # --- sensors ------------------------------------------------------------------

    def tamper(self) -> None:
        self._event("tamper")

    def location(self, lat: float, lon: float, accuracy_m: float = 25.0) -> None:
        self._event("location", lat=lat, lon=lon, accuracy_m=accuracy_m)

    def battery(self, percent: int) -> None:
        self._event("battery", percent=percent)

    def _event(self, kind: str, **extra) -> None:
        event = {"type": kind, "at": self.now().isoformat(timespec="seconds"), **extra}
        self.state.pending.append(event)
        self.state.log.append(event)

    # --- the modem ----------------------------------------------------------------

    def next_upload(self) -> tuple[bytes, str]:
        """The body and signature of the next upload (uses up one seq number)."""
        self.state.seq += 1
        body = json.dumps(
            {"box": self.box_id, "seq": self.state.seq, "events": self.state.pending},
            separators=(",", ":"),
        ).encode("utf-8")
        return body, pin.sign(self.secret, body)

    def upload(self, server: str, timeout: float = 10.0) -> UploadResult:
        """Send pending events; they are dropped from the queue only on 202, and on 409
        (seq behind the server's) the box moves its counter past the server's and retries."""
        if not self.state.pending:
            return UploadResult(204, {})
        result = self.post(server, *self.next_upload(), timeout=timeout)
        if result.status == 409 and isinstance(result.body.get("last_seq"), int):
            self.state.seq = result.body["last_seq"]
            result = self.post(server, *self.next_upload(), timeout=timeout)
        if result.status == 202:
            self.state.pending = []
        return result

    @staticmethod
    def post(server: str, body: bytes, signature: str, timeout: float = 10.0) -> UploadResult:
        """One raw POST to {server}/api/lockbox/events (also used to replay in tests)."""
        request = urllib.request.Request(
            server.rstrip("/") + "/api/lockbox/events",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Box-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return UploadResult(response.status, json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            return UploadResult(exc.code, payload)

    # --- persistence for the command line ----------------------------------------

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.state.__dict__, indent=1))

    @staticmethod
    def load_state(path: Path) -> BoxState:
        if not path.exists():
            return BoxState()
        return BoxState(**json.loads(path.read_text()))
