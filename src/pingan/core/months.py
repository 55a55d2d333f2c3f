"""A month or a day as people type it ("2026-03", "2026-03-14" in a query string, a form field
or a command), checked against one range for the whole project.

Reports compute with the months around the one asked for (a 12-month trend, retention 12
months later, "the month after" as an end bound) and screens with the day after the one
asked for (the end of a day is the next midnight). Year 9999 has no month or day after its
last and year 1 none before its first, so a date outside the range is refused where it is
read, with a message for the screen, instead of failing deep inside a query.
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext as _

FIRST = date(2000, 1, 1)  # before any methadone clinic in China; imports start later
LAST = date(2099, 12, 1)
LAST_DAY = date(2099, 12, 31)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class NotAMonth(ValueError):
    """The text is not a month Ping An reports on; str() is the translated reason."""


class NotADay(ValueError):
    """The text is not a day Ping An works with; str() is the translated reason."""


def parse_day(text: str) -> date:
    """The day written YYYY-MM-DD, from 2000-01-01 to 2099-12-31."""
    value = (text or "").strip()
    try:
        day = date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise NotADay(
            _("“%(value)s” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-14.")
            % {"value": value[:40]}
        )
    if not FIRST <= day <= LAST_DAY:
        raise NotADay(
            _("%(value)s is outside the dates that can be shown (%(first)s to %(last)s).")
            % {"value": value, "first": FIRST.isoformat(), "last": LAST_DAY.isoformat()}
        )
    return day


def parse_month(text: str) -> date:
    """The first day of the month written YYYY-MM, from 2000-01 to 2099-12. A month that has
    not begun is allowed: its figures are simply empty, and data may be dated ahead of a
    clock that a test or a demo has frozen."""
    value = (text or "").strip()
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise NotAMonth(
            _("“%(value)s” is not a month: write it as YYYY-MM, e.g. 2026-03.")
            % {"value": value[:40]}
        )
    month = date(int(match.group(1)), int(match.group(2)), 1)
    if not FIRST <= month <= LAST:
        raise NotAMonth(
            _("%(value)s is outside the months that can be shown (%(first)s to %(last)s).")
            % {"value": value, "first": f"{FIRST:%Y-%m}", "last": f"{LAST:%Y-%m}"}
        )
    return month


def month_or_default(text: str, default: date) -> tuple[date, str]:
    """For a screen: the month asked for (its first day) and "", or `default` (any day of
    the month to show instead) and the message that says why. No text means the default,
    without a message."""
    if not (text or "").strip():
        return default.replace(day=1), ""
    try:
        return parse_month(text), ""
    except NotAMonth as exc:
        shown = default.replace(day=1)
        return shown, _("%(problem)s Showing %(month)s.") % {
            "problem": exc,
            "month": f"{shown:%Y-%m}",
        }
