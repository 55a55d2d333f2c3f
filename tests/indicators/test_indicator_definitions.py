"""Every core indicator for March 2026 against values worked out by hand.

In treatment in March (days in treatment / days dosed while in treatment):
A 31/31, B 22/10 (enrolled 10 March), C 20/5 (discharged 21 March; its dose that day is
outside treatment), D 31/1 (dosed 31 March only), F 31/0, G 30/1; E left in February.
Active: A B C D G. Last doses: A 70, B 50, C 80, D 40, G 100.
"""

from __future__ import annotations

import pytest
from indicator_fixtures import build_march

from pingan.indicators.definitions import Period, add_months, wilson
from pingan.indicators.engines import compute_db

EXPECTED = {
    # id: (numerator, denominator)
    "active_clients": (5, None),
    "adherence": (48, 165),
    "takehome_adherence": (10, 22),
    "clinic_only_adherence": (38, 143),
    "retention_3m": (1, 3),
    "retention_6m": (0, 0),
    "retention_12m": (0, 0),
    "mean_dose_mg": (340, 5),
    "adequate_dose_share": (3, 5),
    "opiate_positive_rate": (2, 3),
    "takehome_opiate_positive_rate": (1, 1),
    "clinic_only_opiate_positive_rate": (1, 2),
    "hiv_tested_12m": (2, 5),
    "hcv_tested_12m": (1, 5),
    "hbv_tested_12m": (1, 5),
    "syphilis_tested_12m": (1, 5),
    "tb_screened_12m": (0, 5),
    "hiv_new_positive": (1, None),
    "takehome_clients": (1, None),
    "takehome_methadone_negative_rate": (0, 0),  # no sample has both methadone and EDDP
}


@pytest.fixture
def march(db):
    return build_march()


def test_every_core_indicator_matches_the_hand_count(march):
    results = compute_db(Period(2026, 3), EXPECTED).results
    got = {k: (r.numerator, r.denominator) for k, r in results.items()}
    assert got == EXPECTED


def test_values_are_numerator_over_denominator_and_null_without_denominator(march):
    r = compute_db(Period(2026, 3)).results
    assert r["adherence"].value == pytest.approx(48 / 165)
    assert r["mean_dose_mg"].value == 68
    assert r["active_clients"].value == 5
    assert r["tb_screened_12m"].value == 0.0
    assert r["retention_6m"].value is None
    assert r["adherence"].people == 6 and r["adherence"].people_numerator == 5


def test_a_month_without_urine_tests_gives_null(march):
    r = compute_db(Period(2026, 2), ["opiate_positive_rate", "active_clients"]).results
    assert r["opiate_positive_rate"].value is None
    assert r["opiate_positive_rate"].denominator == 0
    assert r["active_clients"].value == 2  # A (28 February) and F (20 February)


def test_takehome_comparisons_carry_wilson_intervals(march):
    r = compute_db(Period(2026, 3)).results
    low, high = wilson(10, 22)
    assert (r["takehome_adherence"].ci_low, r["takehome_adherence"].ci_high) == (low, high)
    assert low < 10 / 22 < high
    assert r["adherence"].ci_low is None  # only the comparisons carry one


def test_wilson_matches_a_published_example():
    # Newcombe (1998), example: 81 of 263 → 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert round(low, 4) == 0.2553 and round(high, 4) == 0.3662
    assert wilson(0, 0) is None
    assert wilson(0, 10)[0] == 0.0


def test_months_later_clamp_to_the_end_of_a_short_month():
    from datetime import date

    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 31), 3) == date(2026, 3, 31)
    assert Period.parse("2026-03").shift(-12) == Period(2025, 3)
    with pytest.raises(ValueError):
        Period.parse("2026-13")
