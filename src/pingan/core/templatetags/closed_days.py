"""`{% closed_days_warning ahead=30 %}`, `month=…` or `year=…`: the warning that the holiday
calendar does not cover a year the screen plans for, so its closed days must be entered by
hand. Screens of any app show it the same way, with a link for those who may enter them."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django import template

from pingan.core import clock, closed_days

register = template.Library()


def _span(ahead: int | None, month: date | None, year: int | None) -> tuple[date, date]:
    if year is not None:
        return date(year, 1, 1), date(year, 12, 31)
    if month is not None:
        last_day = calendar.monthrange(month.year, month.month)[1]
        return month.replace(day=1), month.replace(day=last_day)
    tomorrow = clock.today() + timedelta(days=1)
    return tomorrow, tomorrow + timedelta(days=max((ahead or 1) - 1, 0))


@register.inclusion_tag("core/closed_days_warning.html", takes_context=True)
def closed_days_warning(
    context, ahead: int | None = None, month: date | None = None, year: int | None = None
) -> dict:
    first, last = _span(ahead, month, year)
    return {
        "years": closed_days.calendar_gaps(first, last),
        "last_known": closed_days.calendar_last_year(),
        "perms": context.get("perms"),
    }
