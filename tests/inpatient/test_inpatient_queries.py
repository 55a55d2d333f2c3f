"""Indicator inputs (docs/indicators.md) over a month whose stays cross its edges."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from inpatient_factories import admission, tariff, unit

from pingan.core import clock
from pingan.inpatient import actions, billing, queries
from pingan.inpatient.models import Bed

pytestmark = pytest.mark.django_db


def noon(y: int, m: int, d: int) -> datetime:
    return timezone.make_aware(datetime(y, m, d, 12))


@pytest.fixture
def march(users, clock_at):
    """Three beds in service all of March 2026 and four stays:
    A  S1  25 Feb – 4 Mar   (3 nights in March)
    B  S2  10 Mar – 17 Mar  (7; the person of A, back with the card; 10 days planned)
    C  P1  28 Mar – 5 Apr   (4 in March)
    D  S1  29 Mar – open    (3 in March)"""
    clinician, manager = users["clinician"], users["manager"]
    clock_at(datetime(2026, 6, 1, 10, 0))  # after every stay below began
    beds = unit(manager)
    Bed.objects.update(in_service_from=date(2026, 1, 1))
    tariff(manager, date(2025, 1, 1))
    s1, s2, p1 = beds["shared"][0], beds["shared"][1], beds["private"][0]
    a = actions.admit(admission(7), s1, clinician, at=noon(2026, 2, 25))
    actions.discharge(a, clinician, at=noon(2026, 3, 4))
    b = actions.admit(
        admission(10, card=a.person.return_card_code), s2, clinician, at=noon(2026, 3, 10)
    )
    actions.discharge(b, clinician, at=noon(2026, 3, 17))
    c = actions.admit(admission(7), p1, clinician, at=noon(2026, 3, 28))
    actions.discharge(c, clinician, at=noon(2026, 4, 5))
    actions.set_bed_state(s1, "free", clinician)
    d = actions.admit(admission(30), s1, clinician, at=noon(2026, 3, 29))
    return {"a": a, "b": b, "c": c, "d": d}


def test_occupancy_counts_only_the_nights_inside_the_month(march):
    measure = queries.occupancy("2026-03")
    assert (measure.numerator, measure.denominator) == (3 + 7 + 4 + 3, 3 * 31)
    assert measure.value == pytest.approx(17 / 93)
    april = queries.occupancy(date(2026, 4, 15))
    # C: 1–4 April (4 nights); D: all 30 days of April, still open.
    assert (april.numerator, april.denominator) == (4 + 30, 3 * 30)


def test_occupancy_stops_at_today_and_counts_beds_in_service(march):
    today = date(2026, 3, 10)
    measure = queries.occupancy("2026-03", today=today)
    # A: 1–3 March; B: its first night, 10 March; days after today count in neither part.
    assert (measure.numerator, measure.denominator) == (3 + 1, 3 * 10)
    Bed.objects.filter(label="2", room__name="S").update(retired_on=date(2026, 3, 21))
    assert queries.occupancy("2026-03").denominator == 31 + 20 + 31
    assert queries.occupancy("2030-01", today=today).value is None


def test_mean_length_of_stay_counts_nights_of_discharged_stays(march):
    assert queries.mean_los_days("2026-03") == queries.Measure(14, 2, 7.0)
    assert queries.mean_los_days("2026-04") == queries.Measure(8, 1, 8.0)
    assert queries.mean_los_days("2026-05").value is None


def test_readmission_within_12_months_by_card_code(march):
    measure = queries.readmission_12m("2026-03")
    assert (measure.numerator, measure.denominator, measure.value) == (1, 2, 0.5)
    assert march["b"].readmission_of == march["a"]
    assert queries.readmission_12m("2026-04").numerator == 0


def test_admissions_and_revenue(march, users):
    assert queries.admissions("2026-03").value == 3
    assert queries.admissions("2026-02").value == 1
    billing.take_payment(march["d"], "1000.00", users["manager"])
    billing.take_payment(march["b"], "1820.00", users["manager"])  # 7 nights of 10 planned
    s2 = march["b"].bed
    actions.set_bed_state(s2, "free", users["clinician"])
    e = actions.admit(admission(7), s2, users["clinician"])
    billing.take_payment(e, "1820.00", users["manager"])
    actions.discharge(e, users["clinician"])  # left the same day: 6 unused days
    billing.refund(e, "1560.00", users["manager"])
    this_month = queries.revenue(clock.today())
    assert this_month.value == Decimal("1000.00") + 1820 + 1820 - 1560
    assert queries.revenue(clock.today() - timedelta(days=62)).value == Decimal("0.00")


def test_the_indicator_engine_reads_these_functions(march):
    """The contract with `indicators.modules`: it calls each function with "YYYY-MM"."""
    from pingan.indicators.definitions import BY_ID, Period
    from pingan.indicators.modules import compute

    period = Period.parse("2026-03")
    occupancy = compute(BY_ID["inpatient_occupancy"], period)
    assert (occupancy.numerator, occupancy.denominator) == (17, 93)
    assert compute(BY_ID["inpatient_mean_los_days"], period).value == 7.0
    assert compute(BY_ID["inpatient_readmission_12m"], period).value == 0.5
