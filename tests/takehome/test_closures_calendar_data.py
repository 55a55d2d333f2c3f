"""The pinned `chinese-calendar` must know the public holidays of the years the centres are
working in: without them the Spring Festival would be an open day unless a manager enters it
by hand. The check reads the project's clock unfrozen (CI runs it outside the frozen clock:
`scripts/test.sh`, step "holiday calendar") so that CI turns red in time to upgrade the pin.

The State Council announces next year's holidays in the autumn, and the calendar package
follows within weeks, so next year is required from 1 December. A gap that cannot be closed
yet (no release on PyPI knows the year) is acknowledged in `ACKNOWLEDGED_GAPS` below, with
the reason and the day the acknowledgement runs out; until then managers enter that year's
closed days by hand, and every screen that plans days in that year says so."""

from __future__ import annotations

from datetime import date
from importlib.metadata import version

import pytest

from pingan.core import clock, closed_days

# year -> (acknowledged until, why). Remove an entry once a release covering the year is pinned.
ACKNOWLEDGED_GAPS: dict[int, tuple[date, str]] = {
    2027: (
        date(2027, 1, 31),
        "chinese-calendar 1.11.0, the newest release on PyPI on 2026-12-02, stops at 2026; "
        "centres enter 2027's public holidays by hand (docs/closed-days.md).",
    ),
}
NEXT_YEAR_REQUIRED_FROM = (12, 1)  # month, day


def years_required(today: date) -> list[int]:
    """The current year always; next year too from 1 December."""
    years = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_REQUIRED_FROM:
        years.append(today.year + 1)
    return years


def missing_years(today: date, covers=closed_days.calendar_covers) -> list[int]:
    """Required years the calendar lacks and no live acknowledgement excuses."""
    missing = []
    for year in years_required(today):
        until = ACKNOWLEDGED_GAPS.get(year, (None, ""))[0]
        if not covers(year) and (until is None or today > until):
            missing.append(year)
    return missing


@pytest.mark.calendar_data
def test_pinned_chinese_calendar_covers_the_years_in_use__reads_the_real_date_on_purpose():
    # The project's clock, left unfrozen: scripts/test.sh runs this outside faketime.
    missing = missing_years(clock.today())
    assert not missing, (
        f"chinese-calendar {version('chinese-calendar')} knows public holidays up to "
        f"{closed_days.calendar_last_year()}, not {missing}. Pin a release that covers them "
        f"in pyproject.toml; if none is published yet, acknowledge the gap in "
        f"ACKNOWLEDGED_GAPS with a date, and tell the centres to enter the closed days by hand "
        f"on the 'Days the centre is closed' screen (docs/closed-days.md)."
    )


def test_the_rule_requires_next_year_from_december_and_honours_acknowledgements():
    knows_2026 = lambda year: year <= 2026  # noqa: E731
    assert missing_years(date(2026, 11, 30), knows_2026) == []
    assert missing_years(date(2026, 12, 1), knows_2026) == []  # 2027 acknowledged
    assert missing_years(date(2027, 2, 1), knows_2026) == [2027]  # acknowledgement ran out
    assert missing_years(date(2028, 12, 1), knows_2026) == [2028, 2029]
