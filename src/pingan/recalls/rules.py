"""Pure decisions of the recalls (no database): the ISO week, how many to draw, the draw
itself, when a recall is due, and what a return means (docs/recalls.md)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from pingan.core.domain import Refusal

# A recalled client has this long from the hand-off of the text (or staff's call).
ANSWER_WITHIN = timedelta(hours=24)
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
# A volume is measured to the millilitre; this much short is still "in full".
VOLUME_TOLERANCE_ML = Decimal("1")
MAX_ML = Decimal("99999")


def iso_week(day: date) -> str:
    """The ISO week of a day, as `2026-W49`."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    """`YYYY-Www`, checked to be a real ISO week; a refusal otherwise."""
    text = (text or "").strip()
    match = _WEEK.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise Refusal(
            _("“%(value)s” is not a week: write it as YYYY-Www, e.g. 2026-W49.")
            % {"value": text[:20]},
            code="week",
        ) from None
    return text


def draw_size(eligible: int, share: Decimal) -> int:
    """How many of `eligible` clients to draw: the share, rounded half up, at least one
    when anyone is eligible, never more than all."""
    if eligible <= 0:
        return 0
    wanted = (Decimal(eligible) * Decimal(share)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(1, min(eligible, int(wanted)))


def draw(week: str, seed: str, eligible: list[str], share: Decimal) -> list[str]:
    """The clients drawn, by code, in code order: a sample from the eligible codes (sorted
    first, so the order they were read in does not matter) with a generator seeded from the
    week and the recorded seed. Same inputs, same clients."""
    pool = sorted(set(eligible))
    rng = random.Random(f"{week}:{seed}")
    return sorted(rng.sample(pool, draw_size(len(pool), share)))


def due_at(notified_at: datetime | None) -> datetime | None:
    """When the return is due: 24 hours after the client was told (None: not told yet)."""
    return notified_at + ANSWER_WITHIN if notified_at is not None else None


def bottles_given(value) -> int:
    """The number of bottles staff counted: a whole number, 0 or more."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise Refusal(
            _("Count the bottles returned as a whole number, 0 or more."),
            code="bottles",
            field="bottles",
        )
    return int(text)


def volume_given(value) -> Decimal:
    """The volume staff measured, in ml: a number, 0 or more, at most two decimals."""
    text = str(value if value is not None else "").strip().replace(",", ".")
    try:
        ml = Decimal(text)
    except InvalidOperation:
        ml = None
    if ml is None or not ml.is_finite():
        raise Refusal(
            _("Give the volume returned in millilitres, e.g. 180 or 180.5."),
            code="volume",
            field="ml",
        )
    if ml < 0:
        raise Refusal(_("The volume returned cannot be negative."), code="volume", field="ml")
    if ml > MAX_ML or ml != ml.quantize(Decimal("0.01")):
        raise Refusal(
            _("Give the volume in millilitres with at most two decimals, below 100,000."),
            code="volume",
            field="ml",
        )
    return ml


@dataclass(frozen=True)
class Judgement:
    short: bool
    reasons: tuple[str, ...] = ()


def judge_return(
    expected_bottles: int, expected_ml: Decimal, bottles: int, ml: Decimal
) -> Judgement:
    """A return is short when fewer bottles come back than the days still ahead hold, or
    less methadone solution than they were filled with (beyond the measuring tolerance)."""
    reasons = []
    if bottles < expected_bottles:
        reasons.append(
            _("%(got)d of %(expected)d bottles for the days ahead came back.")
            % {"got": bottles, "expected": expected_bottles}
        )
    if ml < expected_ml - VOLUME_TOLERANCE_ML:
        reasons.append(
            _("%(got)s ml came back of %(expected)s ml dispensed for the days ahead.")
            % {"got": ml, "expected": expected_ml}
        )
    return Judgement(bool(reasons), tuple(reasons))
