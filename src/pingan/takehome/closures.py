"""Closed days as the take-home standard sees them.

What a closed day is (days entered by hand, public holidays and make-up working days from
the holiday calendar, the weekdays the centre closes) is decided once, in
`pingan.core.closed_days`. The standard's `closed_days` section supplies the centre's policy:
which weekdays it closes and whether public holidays count. `policy_on` is registered as
the policy in force at start-up (`apps.py`), so the urine-test schedule, which cannot import
this app, closes on the same days as the closed-day allowance."""

from __future__ import annotations

from datetime import date, timedelta

from pingan.core import closed_days as definition

from . import queries
from .standard import Rules


def policy_of(rules: Rules) -> definition.Policy:
    return definition.Policy(
        weekdays=frozenset(rules.closed_days.weekdays),
        public_holidays=rules.closed_days.public_holidays,
    )


def policy_on(day: date) -> definition.Policy:
    """The policy of the standard in force on `day`."""
    return policy_of(queries.rules_for(day))


def public_holiday(day: date) -> str | None:
    """The holiday calendar's name of the public holiday on `day` (e.g. "Spring Festival"),
    or None: a weekend is not a public holiday here, nor a make-up working day, and a year
    the calendar does not cover has none."""
    return definition.holiday_name(day)


def closed_reason(day: date, rules: Rules) -> str | None:
    """Why the centre is closed on `day` under these rules (translated), None when open."""
    found = definition.closure(day, policy_of(rules))
    return found.reason if found is not None else None


def is_closed(day: date, rules: Rules) -> bool:
    return definition.is_closed(day, policy_of(rules))


def closed_days(start: date, days: int, rules: Rules) -> list[tuple[date, str]]:
    """The closed days in start … start+days−1, with why, for the planning screens."""
    last = start + timedelta(days=days - 1)
    return [(c.day, c.reason) for c in definition.between(start, last, policy_of(rules))]


def calendar_gaps(start: date, days: int, rules: Rules) -> list[int]:
    """Years in start … start+days−1 whose public holidays must be entered by hand."""
    last = start + timedelta(days=days - 1)
    return definition.calendar_gaps(start, last, policy_of(rules))
