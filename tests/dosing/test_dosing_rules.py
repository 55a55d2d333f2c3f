"""The dosing rules at every boundary (pure functions, no database)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from pingan.dosing import rules
from pingan.dosing.rules import ClientFacts, DoseToday, OpenHold, Taper, Thresholds

TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


LIMITS = Thresholds(review_after_missed_days=3, reinduction_after_missed_days=5)


def facts(**overrides) -> ClientFacts:
    base = dict(
        code="PA-1",
        in_treatment=True,
        prescription_mg=60,
        prescription_start_on=date(2025, 1, 1),
        last_dose_date=TODAY - timedelta(days=1),
        counting_from=date(2025, 1, 1),
    )
    base.update(overrides)
    return ClientFacts(**base)


def codes(decision) -> list[str]:
    return [b.code for b in decision.blocks]


# Taper schedule ---------------------------------------------------------------------------

TAPER = Taper(start_on=date(2026, 3, 1), from_mg=60, to_mg=40, step_mg=5, every_days=7)


@pytest.mark.parametrize(
    "day,mg",
    [
        (date(2026, 2, 28), 80),  # before the taper: the prescription
        (date(2026, 3, 1), 60),  # first day: from_mg
        (date(2026, 3, 7), 60),  # still the first step
        (date(2026, 3, 8), 55),  # after 7 days: one step down
        (date(2026, 3, 15), 50),
        (date(2026, 3, 22), 45),
        (date(2026, 3, 29), 40),  # reaches the floor
        (date(2026, 4, 30), 40),  # and stays there
    ],
)
def test_taper_schedule(day, mg):
    assert rules.scheduled_dose(80, TAPER, day).mg == mg


def test_taper_floor_when_step_overshoots():
    taper = Taper(date(2026, 3, 1), from_mg=12, to_mg=5, step_mg=5, every_days=1)
    assert [rules.scheduled_dose(12, taper, date(2026, 3, d)).mg for d in (1, 2, 3, 4)] == [
        12,
        7,
        5,
        5,
    ]
    assert "end of the plan" in rules.scheduled_dose(12, taper, date(2026, 3, 3)).why


def test_no_taper_gives_prescription_with_reason():
    scheduled = rules.scheduled_dose(70, None, TODAY)
    assert scheduled.mg == 70 and "70" in scheduled.why


def test_taper_to_zero_blocks_dose():
    taper = Taper(date(2026, 3, 1), from_mg=10, to_mg=0, step_mg=5, every_days=1)
    day = date(2026, 3, 3)
    decision = rules.dosing_decision(
        facts(taper=taper, last_dose_date=day - timedelta(days=1)), day, LIMITS
    )
    assert not decision.can_dose and codes(decision) == ["taper_complete"]


# Missed days ------------------------------------------------------------------------------


def test_missed_days_counts_consecutive_days_before_today():
    assert rules.missed_days(TODAY - timedelta(days=1), TODAY) == 0
    assert rules.missed_days(TODAY - timedelta(days=3), TODAY) == 2
    assert rules.missed_days(TODAY - timedelta(days=4), TODAY) == 3


def test_take_home_and_guest_days_count_as_dosed():
    covered = {TODAY - timedelta(days=2), TODAY - timedelta(days=1)}
    assert rules.missed_days(TODAY - timedelta(days=10), TODAY, covered) == 0
    # a covered day in the past breaks the run only where it is
    assert rules.missed_days(TODAY - timedelta(days=10), TODAY, {TODAY - timedelta(days=3)}) == 2
    # future take-home days say nothing about the past
    assert rules.missed_days(TODAY - timedelta(days=4), TODAY, {TODAY + timedelta(days=1)}) == 3


def test_no_missing_before_enrolment_or_review():
    assert rules.missed_days(None, TODAY, counting_from=TODAY) == 0
    assert rules.missed_days(None, TODAY, counting_from=TODAY - timedelta(days=2)) == 2
    # an old dose from a previous episode: counting starts at the new enrolment
    assert rules.missed_days(date(2024, 1, 1), TODAY, counting_from=TODAY - timedelta(days=1)) == 1
    assert rules.missed_days(None, TODAY) == 0


# The decision -----------------------------------------------------------------------------


def test_can_dose_with_reasons():
    decision = rules.dosing_decision(facts(), TODAY, LIMITS)
    assert decision.can_dose and decision.mg == 60 and decision.blocks == []
    assert decision.reasons


@pytest.mark.parametrize(
    "missed,allowed,code,hold",
    [
        (2, True, None, None),
        (3, False, "missed_review", rules.MISSED_DOSE_REVIEW),
        (4, False, "missed_review", rules.MISSED_DOSE_REVIEW),
        (5, False, "reinduction", rules.REINDUCTION),
        (9, False, "reinduction", rules.REINDUCTION),
    ],
)
def test_missed_dose_boundaries(missed, allowed, code, hold):
    decision = rules.dosing_decision(
        facts(last_dose_date=TODAY - timedelta(days=missed + 1)), TODAY, LIMITS
    )
    assert decision.missed == missed
    assert decision.can_dose is allowed
    assert decision.hold_to_open == hold
    if code:
        assert codes(decision) == [code]


def test_thresholds_come_from_the_centre():
    strict = Thresholds(review_after_missed_days=2, reinduction_after_missed_days=4)
    two = facts(last_dose_date=TODAY - timedelta(days=3))
    assert codes(rules.dosing_decision(two, TODAY, strict)) == ["missed_review"]
    assert rules.dosing_decision(two, TODAY, LIMITS).can_dose


def test_open_hold_of_same_kind_is_not_opened_twice():
    hold = OpenHold(rules.MISSED_DOSE_REVIEW, "Missed doses", "3 days")
    decision = rules.dosing_decision(
        facts(last_dose_date=TODAY - timedelta(days=4), open_holds=(hold,)), TODAY, LIMITS
    )
    assert decision.hold_to_open is None and codes(decision) == ["hold"]


def test_already_dosed_names_time_and_dispenser():
    given = datetime(2026, 3, 10, 1, 5, tzinfo=UTC)  # 09:05 in Shanghai
    decision = rules.dosing_decision(
        facts(dose_today=DoseToday("clinic", given, "nurse7")), TODAY, LIMITS
    )
    assert codes(decision) == ["already_dosed"]
    assert "09:05" in decision.blocks[0].message and "nurse7" in decision.blocks[0].message


def test_take_home_today_blocks_clinic_dose():
    decision = rules.dosing_decision(
        facts(dose_today=DoseToday("takehome", None, "")), TODAY, LIMITS
    )
    assert codes(decision) == ["already_dosed"] and "take-home" in decision.blocks[0].message


def test_every_block_is_listed():
    decision = rules.dosing_decision(
        facts(
            in_treatment=False,
            prescription_mg=None,
            open_holds=(OpenHold("other", "Other", "see clinician"),),
        ),
        TODAY,
        LIMITS,
    )
    assert codes(decision) == ["not_in_treatment", "no_prescription", "hold"]
    assert not decision.can_dose and decision.mg is None


def test_prescription_in_the_future_blocks():
    decision = rules.dosing_decision(
        facts(prescription_start_on=TODAY + timedelta(days=1)), TODAY, LIMITS
    )
    assert codes(decision) == ["prescription_not_started"]


def test_money_is_not_an_input():
    """There is no field through which an unpaid balance could block a dose."""
    fields = set(ClientFacts.__dataclass_fields__)
    assert not any(word in name for name in fields for word in ("balance", "paid", "debt", "fee"))
