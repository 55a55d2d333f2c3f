"""The police view and every export: no figure about fewer than 5 people, and no hidden
figure recoverable from a total or from the other figures."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.indicators.definitions import BY_ID, CORE_IDS, SMALL_CELL, Result, make_result
from pingan.indicators.suppression import cells_of, protect, suppress


def _check(results: dict[str, Result]) -> None:
    cells = cells_of(results)
    hidden = protect(cells)
    out = suppress(results)
    # 1. No people-count shown under 5.
    for ind_id, r in out.items():
        ind = BY_ID[ind_id]
        if ind.unit == "people" and r.numerator is not None:
            assert r.numerator >= SMALL_CELL, ind_id
        if ind.unit == "people" and r.denominator is not None:
            assert r.denominator >= SMALL_CELL, ind_id
        if r.value is not None and ind.kind != "count":
            assert r.numerator is not None and r.denominator is not None, ind_id
    # 2. Every protected figure is hidden, and no equation has exactly one unknown member
    #    that is protected (it could be worked out from the others).
    protected = cells.protected | hidden
    assert not (cells.protected & cells.shown) - hidden
    for total, parts in cells.equations:
        unknown = [m for m in (total, *parts) if m not in cells.shown or m in hidden]
        assert not (len(unknown) == 1 and unknown[0] in protected), (total, parts, unknown)
    # 3. What is shown is what was computed.
    for ind_id, r in out.items():
        if r.numerator is not None:
            assert r.numerator == results[ind_id].numerator


def _set(th_people: int, co_people: int, positives: tuple[int, int], active: int, tested: int):
    th_days, co_days = th_people * 30, co_people * 30
    rows = {
        "active_clients": (active, None, active, active),
        "adherence": (
            th_days // 2 + co_days // 2,
            th_days + co_days,
            th_people + co_people,
            th_people + co_people,
        ),
        "takehome_adherence": (th_days // 2, th_days, th_people, th_people),
        "clinic_only_adherence": (co_days // 2, co_days, co_people, co_people),
        "opiate_positive_rate": (
            sum(positives),
            2 * (th_people + co_people),
            th_people + co_people,
            sum(positives),
        ),
        "takehome_opiate_positive_rate": (positives[0], 2 * th_people, th_people, positives[0]),
        "clinic_only_opiate_positive_rate": (positives[1], 2 * co_people, co_people, positives[1]),
        "hiv_tested_12m": (tested, active, active, tested),
        "adequate_dose_share": (active - 2, active, active, active - 2),
        "takehome_clients": (th_people, None, th_people, th_people),
    }
    return {k: make_result(BY_ID[k], v) for k, v in rows.items()}


def test_a_small_takehome_group_cannot_be_recovered_from_the_total():
    results = _set(th_people=3, co_people=40, positives=(1, 9), active=43, tested=20)
    out = suppress(results)
    assert out["takehome_adherence"].value is None
    assert out["takehome_clients"].value is None
    # With take-home hidden, the total or the clinic-only figure must go too.
    assert out["adherence"].numerator is None or out["clinic_only_adherence"].numerator is None
    _check(results)


def test_a_share_close_to_all_hides_its_numerator():
    results = _set(th_people=20, co_people=40, positives=(8, 9), active=60, tested=58)
    out = suppress(results)
    # 58 of 60 tested: "2 were not tested" is a cell under 5.
    assert out["hiv_tested_12m"].numerator is None and out["hiv_tested_12m"].value is None
    assert out["hiv_tested_12m"].denominator == 60
    # adequate_dose_share is active - 2 of active: the same.
    assert out["adequate_dose_share"].value is None
    assert out["active_clients"].value == 60
    _check(results)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 12),
    st.integers(0, 60),
    st.integers(0, 12),
    st.integers(0, 12),
    st.integers(0, 70),
    st.integers(0, 70),
)
def test_no_small_or_derivable_cell_ever_shows(th, co, p1, p2, active, tested):
    results = _set(th, co, (min(p1, th), min(p2, co)), max(active, 2), min(tested, max(active, 2)))
    _check(results)


def test_a_whole_core_set_from_random_numbers_is_safe():
    rng = random.Random(5)
    for _ in range(200):
        results = {}
        for ind_id in CORE_IDS:
            den = rng.randint(0, 30)
            num = rng.randint(0, den) if den else 0
            results[ind_id] = make_result(
                BY_ID[ind_id], (num, den, rng.randint(0, 30), rng.randint(0, 10))
            )
        _check(results)


@pytest.mark.parametrize("value", [0, 1, 4])
def test_small_counts_are_hidden(value):
    out = suppress(
        {"hiv_new_positive": make_result(BY_ID["hiv_new_positive"], (value, None, value, value))}
    )
    assert out["hiv_new_positive"].value is None and out["hiv_new_positive"].suppressed
