"""The pinned `chinese-calendar` must know next year's public holidays before next year
starts: without them the Spring Festival would be an open day unless a manager enters it by
hand. This test reads today's date on purpose (whatever clock the run has) so that CI turns
red in time to upgrade the pin, or to enter next year's closed days by hand."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from pingan.core import clock, closed_days


# Once per run: under the frozen-instant passes (which stop at the first failure) a red
# result here would hide the rest of the suite.
@pytest.mark.calendar_data
def test_pinned_chinese_calendar_covers_next_year__reads_the_clock_on_purpose():
    next_year = clock.today().year + 1
    assert closed_days.calendar_covers(next_year), (
        f"chinese-calendar {version('chinese-calendar')} knows public holidays up to "
        f"{closed_days.calendar_last_year()}, not {next_year}. Pin a release that covers "
        f"{next_year} in pyproject.toml when one is published (the State Council announces "
        f"the holidays in the autumn); until then a manager enters {next_year}'s closed days "
        f"by hand on the 'Days the centre is closed' screen (docs/closed-days.md)."
    )
