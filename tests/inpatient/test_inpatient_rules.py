"""The price algorithm, refunds, taper and COWS as pure functions (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from pingan.core.domain import Refusal
from pingan.inpatient import rules
from pingan.inpatient.rules import TariffTable, UseHistory


def table(overrides: dict | None = None) -> TariffTable:
    rates = dict(rules.DEFAULT_RATES)
    rates.update(overrides or {})
    bands = [rules.Band(*band) for band in rules.DEFAULT_BANDS]
    return TariffTable("test", rates, bands, rules.DEFAULT_POINTS)


def use(drug="heroin", years=0, route="smoked", amount="low", previous=0) -> UseHistory:
    return UseHistory(drug, years, route, amount, previous)


def lines(quote) -> dict[str, Decimal]:
    return {line.factor: line.amount for line in quote.lines}


def test_reference_stay_costs_the_base_price():
    quote = rules.quote(table(), "shared", use(), 7)
    assert lines(quote) == {
        "base": Decimal("260.00"),
        "room": Decimal("0.00"),
        "drug": Decimal("0.00"),
        "severity": Decimal("0.00"),
    }
    assert (quote.day_price, quote.total) == (Decimal("260.00"), Decimal("1820.00"))


def test_private_room_moves_the_price_by_the_room_difference():
    quote = rules.quote(table(), "private", use(), 3)
    assert lines(quote)["room"] == Decimal("120.00")
    assert (quote.day_price, quote.total) == (Decimal("380.00"), Decimal("1140.00"))


@pytest.mark.parametrize(
    ("drug", "moved", "price"),
    [
        ("heroin", "0.00", "260.00"),
        ("methamphetamine", "-20.00", "240.00"),
        ("other_opioid", "-10.00", "250.00"),
        ("other", "-30.00", "230.00"),
    ],
)
def test_each_drug_moves_the_price_by_its_cell(drug, moved, price):
    quote = rules.quote(table(), "shared", use(drug=drug), 1)
    assert lines(quote)["drug"] == Decimal(moved)
    assert quote.day_price == Decimal(price)


def test_severity_points_are_summed_per_factor():
    sev = rules.severity(
        use(years=10, route="injected", amount="high", previous=3), rules.DEFAULT_POINTS
    )
    assert [(p.factor, p.points) for p in sev.parts] == [
        ("years_of_use", 3),
        ("route", 2),
        ("amount_band", 2),
        ("previous_treatments", 2),
    ]
    assert sev.score == 9
    assert rules.severity(use(years=4, previous=2), rules.DEFAULT_POINTS).score == 2


@pytest.mark.parametrize(
    ("history", "score", "band", "day_price"),
    [
        (use(years=1), 0, "mild", "260.00"),
        (use(years=5, amount="medium"), 3, "moderate", "306.00"),  # 260 × 1.1 + 20
        (use(years=10, route="injected", amount="high", previous=3), 9, "severe", "375.00"),
    ],
)
def test_severity_band_multiplies_then_surcharges(history, score, band, day_price):
    quote = rules.quote(table(), "shared", history, 2)
    assert (quote.severity.score, quote.band.label) == (score, band)
    assert quote.day_price == Decimal(day_price)
    assert lines(quote)["severity"] == Decimal(day_price) - Decimal("260.00")
    assert sum(lines(quote).values()) == quote.day_price


def test_rounding_is_half_up_to_the_fen_once_per_day():
    # 250.15 × 1.1 = 275.165: half-up gives 275.17 (half-even would give 275.16).
    quote = rules.quote(
        table({("shared", "heroin"): Decimal("250.15")}), "shared", use(years=5, amount="medium"), 7
    )
    assert quote.day_price == Decimal("295.17")
    assert quote.total == Decimal("2066.19")


@pytest.mark.parametrize("days", [0, -3, "", "seven", 91])
def test_bad_number_of_days_is_refused(days):
    with pytest.raises(Refusal):
        rules.quote(table(), "shared", use(), days)


def test_missing_combinations_are_listed():
    incomplete = table()
    del incomplete.rates[("private", "other")]
    del incomplete.rates[("shared", "methamphetamine")]
    incomplete.bands = [b for b in incomplete.bands if b.min_score]
    with translation.override("en"):
        problems = rules.missing_cells(incomplete)
    assert len(problems) == 3
    assert any("Private room" in p and "Other" in p for p in problems)
    assert any("Methamphetamine" in p for p in problems)
    assert rules.missing_cells(table()) == []


def test_days_are_nights_and_refund_is_unused_days():
    s = rules.settle(date(2026, 3, 1), date(2026, 3, 4), 7, Decimal("306.00"))
    assert (s.days_used, s.unused_days, s.credit) == (3, 4, Decimal("1224.00"))
    same_day = rules.settle(date(2026, 3, 1), date(2026, 3, 1), 7, Decimal("306.00"))
    assert same_day.days_used == 1
    over = rules.settle(date(2026, 3, 1), date(2026, 3, 10), 7, Decimal("260.00"))
    assert (over.extra_days, over.extra_charge, over.credit) == (2, Decimal("520.00"), 0)
    with pytest.raises(Refusal):
        rules.settle(date(2026, 3, 5), date(2026, 3, 4), 7, Decimal("1"))


def test_taper_reduces_daily_and_never_below_zero():
    start = date(2026, 3, 1)
    doses = [rules.taper_dose(start, 40, 10, 1, date(2026, 3, d)) for d in range(1, 7)]
    assert doses == [40, 30, 20, 10, 0, 0]
    assert rules.taper_dose(start, 40, 5, 2, date(2026, 3, 4)) == 35
    assert rules.taper_dose(start, 40, 5, 1, date(2026, 2, 28)) == 0


def test_cows_items_are_summed_and_checked():
    items = {name: maximum for name, maximum in rules.COWS_ITEMS}
    assert rules.cows_total(items) == 48
    with pytest.raises(Refusal):
        rules.cows_total({**items, "pulse": 5})
    with pytest.raises(Refusal):
        rules.cows_total({k: v for k, v in items.items() if k != "tremor"})


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.005", "NaN"])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(Refusal):
        rules.check_amount(amount)


def test_card_codes_use_the_unambiguous_alphabet():
    codes = {rules.new_card_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and set(c) <= set(rules.CARD_ALPHABET) for c in codes)
    assert not set("O0I1B8S5Z2") & set(rules.CARD_ALPHABET)
    assert rules.normalise_card_code("acde-fg hj") == "ACDEFGHJ"
