"""Pure rules of the outbox: what a PIN message says, and when to try again."""

from __future__ import annotations

from datetime import datetime, timedelta

# The exact texts are a contract with clients (DESIGN.md §3.4): they name neither the drug
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
# How long a message handed to the gateway may wait for a delivery report before a re-run
# takes it for lost in a crash and sends it again.
HANDOVER_GRACE = timedelta(minutes=10)


def pin_text(language: str, code: str) -> str:
    template = PIN_TEXTS.get(language, PIN_TEXTS[DEFAULT_LANGUAGE])
    return template.format(pin=code)


def next_attempt(attempts: int, now: datetime) -> datetime:
    """Exponential backoff: 1, 2, 4, … minutes after the n-th failure, at most an hour."""
    return now + timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))
