"""Every shared health indicator, defined once: what it counts, over whom, in which period.

This module is the single place a definition lives. Each `Indicator` names its population,
numerator and denominator in words a CDC officer can check (shown on the dashboard, in the
report and in docs/indicators.md), and points at its SQL in `sql.py`, which every engine
runs (SQLite and PostgreSQL on the centre's own database, DuckDB over Parquet). A pandas
re-statement of the same definitions in the tests (tests/indicators/pandas_engine.py) is
independent of the SQL, so the tests catch a definition that one engine reads differently.
Which urine results make a sample opioid-positive is the labs app's definition
(`labs.rules.OPIOID_ANALYTES`); the SQL reads it from there.

Values are derived from (numerator, denominator) here, in Python, for every engine alike:
that is why the engines agree to the last digit.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from pingan.core.months import parse_month

# The smallest number of people a figure leaving the centre may describe (docs/indicators.md,
# small-cell suppression).
SMALL_CELL = 5
# No definition reads a dose more than this many days before the period's first day
# (the retention window reaches back 29 days); engines may slice the dose table with it.
DOSE_LOOKBACK_DAYS = 31
ADEQUATE_DOSE_MG = 60
# Lost to follow-up: this many days in a row without a dose while in treatment (the usual
# MMT definition). Fixed here, apart from the drop-out worklist's own setting
# (`services.OutreachSettings.missed_days`, 2 days by default), which only decides whom staff
# call: a national figure must mean the same in every centre and every month.
LTFU_DAYS = 30


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, the unit every indicator is computed for."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """YYYY-MM within the project's month range (`core.months`); `NotAMonth` (a
        ValueError) with the reason otherwise."""
        first = parse_month(text)
        return cls(first.year, first.month)

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return self.end.day

    def shift(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def last(self, n: int) -> list[Period]:
        """The n months ending with this one, oldest first (for trends)."""
        return [self.shift(-i) for i in range(n - 1, -1, -1)]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st of a short month becomes its last day."""
    target = Period.of(day).shift(months)
    return date(target.year, target.month, min(day.day, target.days))


def anchors(cohort: Period, months: int) -> list[tuple[date, date, date]]:
    """(enrolment day, day `months` later, first day of the 30-day window ending on it)
    for every day of the cohort month: computed here once, so no SQL dialect has to do
    calendar arithmetic."""
    rows = []
    for n in range(cohort.days):
        enrolled = cohort.start + timedelta(days=n)
        anchor = add_months(enrolled, months)
        rows.append((enrolled, anchor, anchor - timedelta(days=29)))
    return rows


def wilson(numerator: int, denominator: int, z: float = 1.959964) -> tuple[float, float] | None:
    """Wilson score 95% interval for a proportion (well behaved near 0 and 1)."""
    if not denominator:
        return None
    p = numerator / denominator
    centre = p + z * z / (2 * denominator)
    spread = z * math.sqrt(p * (1 - p) / denominator + z * z / (4 * denominator * denominator))
    scale = 1 + z * z / denominator
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass(frozen=True)
class Indicator:
    """One definition. `kind`: count (value = numerator), rate (numerator ÷ denominator,
    null when the denominator is 0) or mean (same division, in `unit`)."""

    id: str
    label: Promise
    description: Promise
    kind: str
    section: str
    population: Promise
    numerator: Promise
    denominator: Promise | str = ""
    unit: str = ""  # what numerator and denominator count: people, days, samples, mg
    ci: bool = False  # a 95% Wilson interval accompanies the value
    source: str = "core"  # core (dosing, labs, registry) or the app providing the data
    drilldown: bool = False  # the clients behind it can be listed (staff only)


@dataclass(frozen=True)
class Result:
    """One indicator for one period. `people` is the number of people the figure describes
    (the denominator population), `people_numerator` those in the numerator: the cells that
    small-cell suppression looks at even when the rate itself counts days or samples."""

    value: float | None
    numerator: int | None
    denominator: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    people: int | None = None
    people_numerator: int | None = None
    suppressed: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        data = {"value": self.value, "numerator": self.numerator, "denominator": self.denominator}
        if self.ci_low is not None or self.ci_high is not None:
            data.update(ci_low=self.ci_low, ci_high=self.ci_high)
        if self.suppressed:
            data["suppressed"] = True
        if self.note:
            data["note"] = self.note
        return data

    def hidden(self) -> Result:
        return replace(
            self,
            value=None,
            numerator=None,
            denominator=None,
            ci_low=None,
            ci_high=None,
            suppressed=True,
        )


def make_result(ind: Indicator, row: tuple) -> Result:
    """(numerator, denominator, people, people_numerator) from any engine → a Result."""
    numerator, denominator, people, people_numerator = (None if v is None else int(v) for v in row)
    numerator = numerator or 0
    if ind.kind == "count":
        return Result(float(numerator), numerator, None, people=people, people_numerator=people)
    denominator = denominator or 0
    value = numerator / denominator if denominator else None
    low = high = None
    if ind.ci and denominator:
        low, high = wilson(numerator, denominator)
    return Result(value, numerator, denominator, low, high, people, people_numerator)


def unavailable(note: str) -> Result:
    return Result(None, None, None, note=note)


@dataclass
class IndicatorSet:
    period: Period
    results: dict[str, Result] = field(default_factory=dict)
    # When the set was computed (freshness.month_sets), and whether it is a month's
    # previous set, shown while the background pass recomputes it after a write.
    computed_at: datetime | None = None
    stale: bool = False

    def as_json(self) -> dict:
        return {
            "period": str(self.period),
            "indicators": {k: r.as_dict() for k, r in self.results.items()},
        }


_POP_ACTIVE = _("Clients dosed at least once in the month (active clients).")
_POP_TREAT = _(
    "Clients in treatment on at least one day of the month (from enrolment up to the day "
    "before discharge)."
)
_ADH_NUM = _("Days in the month with a dose while in treatment.")
_ADH_DEN = _("Days in treatment in the month, summed over these clients.")
_OPI_NUM = _("Samples with opiates or morphine positive.")
_OPI_DEN = _("Urine samples collected in the month with an opiates or morphine result.")


def _fmt(text: Promise, **values) -> Promise:
    """A translated template filled in when it is shown, in the language of that request."""
    return lazy(lambda: str(text) % {k: str(v) for k, v in values.items()}, str)()


def _retention(months: int) -> Indicator:
    return Indicator(
        id=f"retention_{months}m",
        label=_fmt(_("Retention at %(n)s months"), n=months),
        description=_fmt(
            _(
                "Of the clients enrolled in the month %(n)s months before this one, the share "
                "still in treatment and dosed in the 30 days up to the day %(n)s months after "
                "their enrolment."
            ),
            n=months,
        ),
        kind="rate",
        section="treatment",
        population=_fmt(_("Clients enrolled in the month %(n)s months before."), n=months),
        numerator=_(
            "Those not discharged by that day and dosed at least once in the 30 days ending on it."
        ),
        denominator=_("All clients enrolled in that month."),
        unit="people",
        drilldown=True,
    )


def _tested(test_id: str, label: Promise, test: Promise) -> Indicator:
    return Indicator(
        id=test_id,
        label=label,
        description=_fmt(
            _(
                "Share of active clients with a %(test)s test in the 365 days ending on the "
                "month's last day."
            ),
            test=test,
        ),
        kind="rate",
        section="health",
        population=_POP_ACTIVE,
        numerator=_fmt(_("Active clients with a %(test)s test in those 365 days."), test=test),
        denominator=_("Active clients."),
        unit="people",
        drilldown=True,
    )


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "active_clients",
        _("Active clients"),
        _("Clients dosed at least once in the month."),
        "count",
        "treatment",
        _POP_ACTIVE,
        _("Number of such clients."),
        unit="people",
        drilldown=True,
    ),
    Indicator(
        "adherence",
        _("Adherence"),
        _(
            "Days with a dose divided by days in treatment in the month, summed over all "
            "clients in treatment in the month."
        ),
        "rate",
        "treatment",
        _POP_TREAT,
        _ADH_NUM,
        _ADH_DEN,
        unit="days",
        drilldown=True,
    ),
    _retention(3),
    _retention(6),
    _retention(12),
    Indicator(
        "lost_to_follow_up_rate",
        _("Lost to follow-up"),
        _(
            "Share of the clients in treatment on the month's first day who went 30 days in "
            "a row without a dose, ending on a day of the month, while in treatment."
        ),
        "rate",
        "treatment",
        _("Clients in treatment on the first day of the month."),
        _(
            "Those lost to follow-up on at least one day of the month: in treatment that day, "
            "with no dose on it nor on the 29 days before it, all of them days in treatment."
        ),
        _("Clients in treatment on the first day of the month."),
        unit="people",
    ),
    Indicator(
        "return_to_care_rate",
        _("Returned to care"),
        _(
            "Share of the clients lost to follow-up when the month began who were dosed "
            "again in the month."
        ),
        "rate",
        "treatment",
        _(
            "Clients lost to follow-up on the day before the month: in treatment that day, "
            "with no dose on it nor on the 29 days before it, all of them days in treatment."
        ),
        _("Those dosed at least once in the month."),
        _("Clients lost to follow-up on the day before the month."),
        unit="people",
    ),
    Indicator(
        "mean_dose_mg",
        _("Mean dose (mg)"),
        _("Mean of each active client's last dose in the month."),
        "mean",
        "treatment",
        _POP_ACTIVE,
        _("Sum of the last dose of each active client (mg)."),
        _("Active clients."),
        unit="mg",
    ),
    Indicator(
        "adequate_dose_share",
        _("Adequate dose (≥ 60 mg)"),
        _("Share of active clients whose last dose in the month is 60 mg or more."),
        "rate",
        "treatment",
        _POP_ACTIVE,
        _("Active clients whose last dose in the month is at least 60 mg."),
        _("Active clients."),
        unit="people",
        drilldown=True,
    ),
    Indicator(
        "opiate_positive_rate",
        _("Opioid-positive urine samples"),
        _(
            "Opioid-positive urine samples divided by samples with an opioid result in the "
            "month; a sample is positive if opiates or morphine is positive."
        ),
        "rate",
        "health",
        _("Urine samples collected in the month."),
        _OPI_NUM,
        _OPI_DEN,
        unit="samples",
        drilldown=True,
    ),
    _tested("hiv_tested_12m", _("HIV tested (12 months)"), _("HIV")),
    _tested("hcv_tested_12m", _("HCV tested (12 months)"), _("hepatitis C")),
    _tested("hbv_tested_12m", _("HBV tested (12 months)"), _("hepatitis B")),
    _tested("syphilis_tested_12m", _("Syphilis tested (12 months)"), _("syphilis")),
    _tested("tb_screened_12m", _("TB screened (12 months)"), _("TB")),
    Indicator(
        "hiv_new_positive",
        _("New HIV positives"),
        _("Clients whose first positive HIV test falls in the month."),
        "count",
        "health",
        _("All clients ever tested."),
        _("Clients whose first positive HIV test is dated in the month."),
        unit="people",
        drilldown=True,
    ),
    Indicator(
        "art_linked_share",
        _("HIV-positive linked to ART"),
        _("Share of HIV-positive active clients with an ART referral completed."),
        "rate",
        "health",
        _("Active clients with a positive HIV test on or before the month's last day."),
        _("Those with an ART referral completed (reached care) by the month's last day."),
        _("HIV-positive active clients."),
        unit="people",
        source="referrals",
    ),
    Indicator(
        "takehome_clients",
        _("Clients on take-home doses"),
        _("Clients with at least one take-home dose in the month."),
        "count",
        "takehome",
        _POP_ACTIVE,
        _("Clients with a take-home dose in the month."),
        unit="people",
        drilldown=True,
    ),
    Indicator(
        "takehome_adherence",
        _("Adherence, take-home clients"),
        _("Adherence of clients in treatment with at least one take-home dose in the month."),
        "rate",
        "takehome",
        _("Clients in treatment in the month with a take-home dose in it."),
        _ADH_NUM,
        _ADH_DEN,
        unit="days",
        ci=True,
        drilldown=True,
    ),
    Indicator(
        "clinic_only_adherence",
        _("Adherence, clinic-only clients"),
        _("Adherence of clients in treatment with no take-home dose in the month."),
        "rate",
        "takehome",
        _("Clients in treatment in the month without any take-home dose in it."),
        _ADH_NUM,
        _ADH_DEN,
        unit="days",
        ci=True,
        drilldown=True,
    ),
    Indicator(
        "takehome_opiate_positive_rate",
        _("Opioid-positive samples, take-home clients"),
        _("Opioid-positive rate of samples from clients with a take-home dose in the month."),
        "rate",
        "takehome",
        _("Urine samples in the month of clients with a take-home dose in it."),
        _OPI_NUM,
        _OPI_DEN,
        unit="samples",
        ci=True,
        drilldown=True,
    ),
    Indicator(
        "clinic_only_opiate_positive_rate",
        _("Opioid-positive samples, clinic-only clients"),
        _("Opioid-positive rate of samples from clients with no take-home dose in the month."),
        "rate",
        "takehome",
        _("Urine samples in the month of clients without a take-home dose in it."),
        _OPI_NUM,
        _OPI_DEN,
        unit="samples",
        ci=True,
        drilldown=True,
    ),
    Indicator(
        "takehome_methadone_negative_rate",
        _("Methadone-negative samples, take-home clients"),
        _(
            "Share of the samples from clients with a take-home dose in the month that are "
            "negative for both methadone and EDDP (a sign the doses were not taken)."
        ),
        "rate",
        "takehome",
        _("Urine samples in the month of clients with a take-home dose in it."),
        _("Samples with methadone and EDDP both negative."),
        _("Urine samples collected in the month with a methadone and an EDDP result."),
        unit="samples",
        ci=True,
    ),
    Indicator(
        "police_referrals",
        _("Police referrals"),
        _("Referrals filed by the police in the month (merged duplicates counted once)."),
        "count",
        "referrals",
        _("Police referrals."),
        _("Referrals dated in the month."),
        unit="people",
        source="referrals",
    ),
    Indicator(
        "referrals_enrolled_30d",
        _("Referrals enrolled within 30 days"),
        _("Share of the month's police referrals enrolled within 30 days of the referral."),
        "rate",
        "referrals",
        _("Police referrals filed in the month."),
        _("Those enrolled no later than 30 days after the referral date."),
        _("Referrals filed in the month."),
        unit="people",
        source="referrals",
    ),
    Indicator(
        "referred_retained_3m",
        _("Referred clients retained at 3 months"),
        _(
            "Share of the people referred by the police 3 months before this month who are "
            "in treatment on its last day."
        ),
        "rate",
        "referrals",
        _("Police referrals filed in the month 3 months before."),
        _("Those whose client is in treatment on this month's last day."),
        _("Referrals filed in that month."),
        unit="people",
        source="referrals",
    ),
    Indicator(
        "naloxone_kits",
        _("Naloxone kits handed out"),
        _("Naloxone kits handed out in the month."),
        "count",
        "services",
        _("Naloxone kits."),
        _("Kits handed out in the month."),
        unit="kits",
        source="services",
    ),
    Indicator(
        "counselling_sessions",
        _("Counselling sessions"),
        _("Counselling sessions held in the month."),
        "count",
        "services",
        _("Counselling sessions."),
        _("Sessions held in the month."),
        unit="sessions",
        source="services",
    ),
    Indicator(
        "inpatient_occupancy",
        _("Inpatient bed occupancy"),
        _("Occupied bed-days divided by available bed-days in the month."),
        "rate",
        "inpatient",
        _("Beds of the detox unit."),
        _("Occupied bed-days in the month."),
        _("Bed-days available in the month."),
        unit="bed-days",
        source="inpatient",
    ),
    Indicator(
        "inpatient_mean_los_days",
        _("Inpatient mean length of stay (days)"),
        _("Mean length of the stays discharged in the month."),
        "mean",
        "inpatient",
        _("Stays discharged in the month."),
        _("Sum of their lengths in days."),
        _("Number of such stays."),
        unit="days",
        source="inpatient",
    ),
    Indicator(
        "inpatient_readmission_12m",
        _("Inpatient readmission (12 months)"),
        _(
            "Share of the month's discharges that were readmissions within 12 months of a "
            "previous discharge."
        ),
        "rate",
        "inpatient",
        _("Stays discharged in the month."),
        _("Those admitted within 12 months of the same person's previous discharge."),
        _("Stays discharged in the month."),
        unit="people",
        source="inpatient",
    ),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
CORE_IDS: tuple[str, ...] = tuple(i.id for i in INDICATORS if i.source == "core")
SECTIONS = {
    "treatment": _("Treatment"),
    "health": _("Health"),
    "takehome": _("Take-home doses"),
    "referrals": _("Referrals"),
    "services": _("Services"),
    "inpatient": _("Inpatient unit"),
}
