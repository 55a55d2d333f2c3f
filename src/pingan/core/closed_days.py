"""Which days the centre is closed: the one definition read by the take-home closed-day
allowance, the random urine-test schedule and every screen that lists closed days.

A day is decided in this order:

1. entered by hand (`ClosedDay`): closed, whatever the calendar says;
2. a make-up working day of the holiday calendar (调休, e.g. Sunday 2025-01-26): open, even
   on a weekday the centre usually closes — the whole city works that day;
3. a public holiday of the calendar (the Spring Festival week): closed;
4. a weekday the centre closes every week: closed;
5. anything else: open. A methadone clinic doses every day, so no weekday is closed unless
   the centre chooses one.

Steps 2 and 3 apply only when the centre's policy counts public holidays.

The calendar is the `chinese-calendar` package. Its data ends with the last year the State
Council had announced when it was released; for a later year it has no answer. Such a year
has no public holidays and no make-up days here (nothing raises), `calendar_gaps` names it
so screens can warn, and the centre enters that year's closed days by hand.

Which weekdays the centre closes and whether public holidays count are set by the take-home
standard in force; the takehome app, above this layer, registers the reader with
`use_policy` when it starts, so the apps below it (labs) read the same policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar
import chinese_calendar.constants
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from .models import ClosedDay

# The calendar's own (English) names, as the screens show them.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("Victory Day (70th anniversary)"),
}

HAND = "hand"
HOLIDAY = "holiday"
WEEKDAY = "weekday"


@dataclass(frozen=True)
class Policy:
    """What the centre chose: the weekdays it closes every week (Monday = 0) and whether the
    calendar's public holidays close it."""

    weekdays: frozenset[int] = frozenset()
    public_holidays: bool = True


@dataclass(frozen=True)
class Closure:
    """One closed day and why: `source` is HAND, HOLIDAY or WEEKDAY; `reason` is what staff
    read (the hand-entered reason, the holiday's or the weekday's name, translated)."""

    day: date
    reason: str
    source: str


_policy_source: Callable[[date], Policy] | None = None


def use_policy(source: Callable[[date], Policy] | None) -> None:
    """Register the reader of the policy in force on a day (None: the default policy)."""
    global _policy_source
    _policy_source = source


def policy_on(day: date) -> Policy:
    source = _policy_source
    return source(day) if source is not None else Policy()


# The holiday calendar --------------------------------------------------------------------


@cache
def calendar_covers(year: int) -> bool:
    """Whether the installed holiday calendar has data for `year`."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def calendar_last_year() -> int:
    """The last year the installed holiday calendar knows."""
    return max(chinese_calendar.constants.holidays).year


def _calendar(day: date) -> tuple[bool, str | None] | None:
    """(is a day off, name) from the calendar; None for a year it does not cover. A plain
    weekend is (True, None); a make-up working day is (False, its holiday's name)."""
    if not calendar_covers(day.year):
        return None
    return chinese_calendar.get_holiday_detail(day)


def holiday_name(day: date) -> str | None:
    """The calendar's English name of the public holiday on `day` (e.g. "Spring Festival"),
    else None: a weekend is not a public holiday, nor is a make-up working day."""
    found = _calendar(day)
    if found is None:
        return None
    off, name = found
    return name if off and name else None


def _shown(name: str) -> str:
    return str(HOLIDAY_NAMES.get(name, name))


def calendar_gaps(first: date, last: date, policy: Policy | None = None) -> list[int]:
    """The years in first … last whose public holidays the calendar does not know, when the
    centre counts public holidays: screens warn that those closed days are entered by hand."""
    policy = policy or policy_on(first)
    if not policy.public_holidays:
        return []
    return [y for y in range(first.year, last.year + 1) if not calendar_covers(y)]


# Closed days -----------------------------------------------------------------------------


def _decide(day: date, policy: Policy, hand: dict[date, str]) -> Closure | None:
    if day in hand:
        return Closure(day, hand[day], HAND)
    if policy.public_holidays:
        found = _calendar(day)
        if found is not None:
            off, name = found
            if name is not None:
                # A holiday closes; a make-up working day opens, even a weekly closing day.
                return Closure(day, _shown(name), HOLIDAY) if off else None
    if day.weekday() in policy.weekdays:
        return Closure(day, str(WEEKDAYS[day.weekday()]), WEEKDAY)
    return None


def _days(first: date, last: date):
    for i in range((last - first).days + 1):
        yield first + timedelta(days=i)


def between(first: date, last: date, policy: Policy | None = None) -> list[Closure]:
    """The closed days from `first` to `last`, both included, with why."""
    if last < first:
        return []
    policy = policy or policy_on(first)
    hand = dict(ClosedDay.objects.filter(day__range=(first, last)).values_list("day", "reason"))
    return [c for c in (_decide(d, policy, hand) for d in _days(first, last)) if c is not None]


def closure(day: date, policy: Policy | None = None) -> Closure | None:
    """Why the centre is closed on `day`, or None when it is open."""
    hand = dict(ClosedDay.objects.filter(day=day).values_list("day", "reason"))
    return _decide(day, policy or policy_on(day), hand)


def is_closed(day: date, policy: Policy | None = None) -> bool:
    return closure(day, policy) is not None


def makeup_workdays(first: date, last: date, policy: Policy | None = None) -> list[Closure]:
    """The make-up working days in first … last (open, though on a weekend), for the screen
    that lists the year; `reason` names the holiday they make up for."""
    policy = policy or policy_on(first)
    if not policy.public_holidays:
        return []
    hand = set(ClosedDay.objects.filter(day__range=(first, last)).values_list("day", flat=True))
    out = []
    for day in _days(first, last):
        found = _calendar(day) if day not in hand else None
        if found is not None and not found[0] and found[1] is not None:
            out.append(Closure(day, _shown(found[1]), HOLIDAY))
    return out
