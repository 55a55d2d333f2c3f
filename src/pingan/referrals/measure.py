"""The shape indicator inputs share (docs/indicators.md): numerator ÷ denominator for a month,
the value null when the denominator is 0; a count has no denominator."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Measure:
    numerator: int
    denominator: int | None = None

    @property
    def value(self) -> float | int | None:
        if self.denominator is None:
            return self.numerator
        return self.numerator / self.denominator if self.denominator else None


def month_bounds(period: date | str) -> tuple[date, date]:
    """First and last day of the month holding `period` (a date, or "YYYY-MM")."""
    if isinstance(period, str):
        year, month = (int(part) for part in period.split("-")[:2])
    else:
        year, month = period.year, period.month
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def months_before(period: date | str, n: int) -> date:
    """The first day of the month n months before `period`'s month."""
    first, _last = month_bounds(period)
    index = first.year * 12 + first.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)
