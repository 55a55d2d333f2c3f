"""Days the centre is closed: the weekdays the standard names, the Chinese public holidays
(from `chinese-calendar`, when the standard counts them) and the days the centre added."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from .models import CentreClosure
from .standard import Rules


def public_holiday(day: date) -> str | None:
    """The holiday's name (e.g. "Spring Festival") or None. A weekend is not a public holiday
    here, and years the package does not know yet have none."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if is_holiday and name else None


def closed_reason(day: date, rules: Rules, extra: dict[date, str] | None = None) -> str | None:
    if extra is None:
        extra = dict(CentreClosure.objects.filter(day=day).values_list("day", "reason"))
    if day in extra:
        return extra[day]
    if day.weekday() in rules.closed_days.weekdays:
        return day.strftime("%A")
    if rules.closed_days.public_holidays:
        return public_holiday(day)
    return None


def is_closed(day: date, rules: Rules) -> bool:
    return closed_reason(day, rules) is not None


def closed_days(start: date, days: int, rules: Rules) -> list[tuple[date, str]]:
    """The closed days in start … start+days−1, with why, for the planning screen."""
    end = start + timedelta(days=days)
    extra = dict(
        CentreClosure.objects.filter(day__gte=start, day__lt=end).values_list("day", "reason")
    )
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        reason = closed_reason(day, rules, extra)
        if reason:
            out.append((day, reason))
    return out
