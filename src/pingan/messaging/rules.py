"""Pure rules of the outbox: what a PIN message says, when to try again, and what becomes
of a message whose sending run stopped (no database here; actions.py applies them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The exact texts are a contract with clients (docs/lockbox-protocol.md): they name neither the drug
# nor treatment, so a message seen by anyone else on the phone discloses nothing. Kept
# here rather than in the translation catalogue so no translation edit can change them;
# tests check both against a list of forbidden words.
PIN_TEXTS = {
    "zh-hans": "您今天的密码是 {pin}",
    "en": "Your code for today is {pin}",
}
DEFAULT_LANGUAGE = "zh-hans"

FORBIDDEN_WORDS = (
    "美沙酮",
    "戒毒",
    "治疗",
    "药",
    "毒",
    "诊所",
    "methadone",
    "treatment",
    "clinic",
    "drug",
    "dose",
    "opioid",
)

MAX_ATTEMPTS = 8

# How long a run holds a message it handed to the gateway. The gateway call is bounded by
# PINGAN_KANNEL_TIMEOUT (10 s, at most twice), so a lease still running at the end of
# this means the run stopped (killed, machine down). Its end never causes a re-send: it
# only lets another run reconcile the message (`reconcile` below).
HANDOVER_LEASE = timedelta(minutes=2)
# How long after the handover a delivery report may still come before the message is
# left to staff. Kannel reports "accepted by the SMS centre" (8) within seconds.
REPORT_GRACE = timedelta(minutes=10)

# Kannel's delivery report types (the `%d` of its dlr-url); nothing else is a report.
REPORT_CODES = {
    1: "delivered",
    2: "failed",
    4: "buffered",
    8: "accepted by the SMS centre",
    16: "rejected by the SMS centre",
}


def report_status(raw: str) -> int | None:
    """The report type in a gateway's `status=` parameter, or None if it is not one.

    Strict on purpose: ASCII digits only (`"²".isdigit()` is True, and `int()` refuses it)
    and one of Kannel's codes, so no parameter can reach the database as anything else."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2):
        return None
    code = int(raw)
    return code if code in REPORT_CODES else None


@dataclass(frozen=True)
class Settlement:
    """What becomes of a message whose run stopped while the gateway held it: `status`
    None means wait (a delivery report may still come)."""

    status: str | None
    reason: str = ""


def reconcile(reported: bool, dlr_requested: bool, handed_at: datetime, now: datetime):
    """A stopped run's in-flight message, judged only by what the gateway told us.

    Any report means the gateway has it: sent. Without one nothing tells a message the
    gateway took from one it never saw, so it is never re-sent blind: once no report can
    be expected any more, staff decide, seeing why."""
    if reported:
        return Settlement("sent")
    if not dlr_requested:
        return Settlement("unknown", "interrupted")
    if now - handed_at >= REPORT_GRACE:
        return Settlement("unknown", "no report")
    return Settlement(None)


def pin_text(language: str, code: str) -> str:
    template = PIN_TEXTS.get(language, PIN_TEXTS[DEFAULT_LANGUAGE])
    return template.format(pin=code)


def next_attempt(attempts: int, now: datetime) -> datetime:
    """Exponential backoff: 1, 2, 4, … minutes after the n-th failure, at most an hour."""
    return now + timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))
