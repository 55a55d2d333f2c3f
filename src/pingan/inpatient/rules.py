"""Pure decisions of the detox unit: severity score, day price and quote, tariff
completeness, days used and refunds, the taper's dose of the day, COWS totals.

No database here: the functions take plain values (or a `TariffTable` snapshot) and
return results with their reasons, so a quote on screen and a test read the same lines.
Rounding: every money result is rounded to the fen (0.01 RMB) with ROUND_HALF_UP, once,
at the day price; totals are day price × days, exact.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from pingan.core.domain import Refusal

from .models import AmountBand, Drug, RoomType, Route

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000000")  # the ledger's column: 12 digits, 2 after the point
ROOM_TYPES = ("shared", "private")
DRUGS = ("heroin", "methamphetamine", "other_opioid", "other")
ROUTES = ("smoked", "injected", "oral")
AMOUNT_BANDS = ("low", "medium", "high")
# The reference cell the quote starts from: the most common stay (shared room, heroin).
REFERENCE = ("shared", "heroin")

# Points per answer of the use history. Thresholds are "from this many → points"; the
# highest threshold not above the answer applies. Stored on each tariff version, so a
# later change of the definition is a new version, never a silent re-pricing.
DEFAULT_POINTS: dict = {
    "years_of_use": [[0, 0], [2, 1], [5, 2], [10, 3]],
    "route": {"smoked": 0, "oral": 0, "injected": 2},
    "amount_band": {"low": 0, "medium": 1, "high": 2},
    "previous_treatments": [[0, 0], [1, 1], [3, 2]],
}
DEFAULT_RATES: dict[tuple[str, str], Decimal] = {
    ("shared", "heroin"): Decimal("260.00"),
    ("shared", "methamphetamine"): Decimal("240.00"),
    ("shared", "other_opioid"): Decimal("250.00"),
    ("shared", "other"): Decimal("230.00"),
    ("private", "heroin"): Decimal("380.00"),
    ("private", "methamphetamine"): Decimal("360.00"),
    ("private", "other_opioid"): Decimal("370.00"),
    ("private", "other"): Decimal("350.00"),
}
# (from score, label, multiplier, surcharge per day)
DEFAULT_BANDS = [
    (0, "mild", Decimal("1.000"), Decimal("0.00")),
    (3, "moderate", Decimal("1.100"), Decimal("20.00")),
    (6, "severe", Decimal("1.250"), Decimal("50.00")),
]
MAX_PLANNED_DAYS = 90
# Card codes avoid letters and digits that are confused when read aloud or handwritten.
CARD_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
CARD_LENGTH = 8
COWS_ITEMS = (
    ("pulse", 4),
    ("sweating", 4),
    ("restlessness", 5),
    ("pupils", 5),
    ("aches", 4),
    ("runny_nose", 4),
    ("gi_upset", 5),
    ("tremor", 4),
    ("yawning", 4),
    ("anxiety", 4),
    ("gooseflesh", 5),
)


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def new_card_code() -> str:
    return "".join(secrets.choice(CARD_ALPHABET) for _ in range(CARD_LENGTH))


def normalise_card_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


# Severity ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseHistory:
    """What the client says of their drug use; its fields are the Stay's of the same name."""

    drug: str
    years_of_use: int
    route: str
    amount_band: str
    previous_treatments: int


@dataclass(frozen=True)
class ScorePart:
    factor: str
    answer: str
    points: int

    @property
    def label(self) -> str:
        """The factor and the answer in the reader's language, for the quote."""
        names = {
            "years_of_use": _("Years of use"),
            "route": _("Route"),
            "amount_band": _("Daily amount"),
            "previous_treatments": _("Previous treatments"),
        }
        choices = {"route": Route, "amount_band": AmountBand}.get(self.factor)
        answer = choices(self.answer).label if choices else self.answer
        return f"{names[self.factor]}: {answer}"


@dataclass(frozen=True)
class Severity:
    score: int
    parts: list[ScorePart]


def _threshold_points(table: list, value: int) -> int:
    points = 0
    for threshold, pts in sorted(table):
        if value >= threshold:
            points = pts
    return points


def severity(history: UseHistory, points: dict) -> Severity:
    """The score is the sum of the points of each answer, as the tariff defines them."""
    parts = [
        ScorePart(
            "years_of_use",
            str(history.years_of_use),
            _threshold_points(points["years_of_use"], history.years_of_use),
        ),
        ScorePart("route", history.route, int(points["route"][history.route])),
        ScorePart(
            "amount_band", history.amount_band, int(points["amount_band"][history.amount_band])
        ),
        ScorePart(
            "previous_treatments",
            str(history.previous_treatments),
            _threshold_points(points["previous_treatments"], history.previous_treatments),
        ),
    ]
    return Severity(sum(p.points for p in parts), parts)


def check_history(history: UseHistory) -> dict[str, str]:
    errors: dict[str, str] = {}
    if history.drug not in DRUGS:
        errors["drug"] = _("Choose the drug of concern.")
    if history.route not in ROUTES:
        errors["route"] = _("Choose how the drug is taken.")
    if history.amount_band not in AMOUNT_BANDS:
        errors["amount_band"] = _("Choose the daily amount.")
    if not 0 <= history.years_of_use <= 80:
        errors["years_of_use"] = _("Years of use must be between 0 and 80.")
    if not 0 <= history.previous_treatments <= 99:
        errors["previous_treatments"] = _("Previous treatments must be between 0 and 99.")
    return errors


# Tariff and quote --------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    min_score: int
    label: str
    multiplier: Decimal
    surcharge: Decimal


@dataclass
class TariffTable:
    """A snapshot of one tariff version, enough to price any stay."""

    name: str
    rates: dict[tuple[str, str], Decimal]
    bands: list[Band]
    points: dict = field(default_factory=lambda: DEFAULT_POINTS)

    def band_for(self, score: int) -> Band:
        chosen = None
        for band in sorted(self.bands, key=lambda b: b.min_score):
            if score >= band.min_score:
                chosen = band
        if chosen is None:
            raise Refusal(_("The tariff has no severity band for score %(s)d.") % {"s": score})
        return chosen


def missing_cells(table: TariffTable) -> list[str]:
    """Every combination the tariff must price, and what is wrong with the bands and the
    severity points; empty when the tariff can be published."""
    problems = [
        _("no price for %(room)s × %(drug)s")
        % {"room": RoomType(room).label, "drug": Drug(drug).label}
        for room in ROOM_TYPES
        for drug in DRUGS
        if table.rates.get((room, drug)) is None
    ]
    if not any(b.min_score == 0 for b in table.bands):
        problems.append(_("no severity band starting at score 0"))
    points = table.points or {}
    for key in ("years_of_use", "previous_treatments"):
        if not isinstance(points.get(key), list) or not points[key]:
            problems.append(_("no severity points for %(factor)s") % {"factor": key})
    for key, answers in (("route", ROUTES), ("amount_band", AMOUNT_BANDS)):
        given = points.get(key) if isinstance(points.get(key), dict) else {}
        problems.extend(
            _("no severity points for %(factor)s = %(answer)s") % {"factor": key, "answer": a}
            for a in answers
            if a not in given
        )
    return problems


@dataclass(frozen=True)
class QuoteLine:
    factor: str  # base | room | drug | severity
    label: str
    amount: Decimal  # how much this factor moved the day price


@dataclass(frozen=True)
class Quote:
    tariff: str
    days: int
    severity: Severity
    band: Band
    lines: list[QuoteLine]
    day_price: Decimal
    total: Decimal


def check_days(days) -> int:
    try:
        value = int(days)
    except (TypeError, ValueError):
        raise Refusal(_("The number of days must be a whole number."), code="days") from None
    if value <= 0:
        raise Refusal(_("The number of days must be at least 1."), code="days")
    if value > MAX_PLANNED_DAYS:
        raise Refusal(
            _("At most %(max)d days can be planned at once.") % {"max": MAX_PLANNED_DAYS},
            code="days",
        )
    return value


def quote(table: TariffTable, room_type: str, history: UseHistory, days) -> Quote:
    """Price a stay: the reference cell, then what the room, the drug and the severity
    each add (or take away); the lines always sum to the day price."""
    days = check_days(days)
    errors = check_history(history)
    if room_type not in ROOM_TYPES:
        errors["room_type"] = _("Choose a room type.")
    if errors:
        raise Refusal(" ".join(errors.values()))
    try:
        reference = table.rates[REFERENCE]
        room_heroin = table.rates[(room_type, "heroin")]
        cell = table.rates[(room_type, history.drug)]
    except KeyError:
        raise Refusal(_("The tariff does not price this combination."), code="tariff") from None
    sev = severity(history, table.points)
    band = table.band_for(sev.score)
    day_price = money(cell * band.multiplier + band.surcharge)
    lines = [
        QuoteLine("base", _("Base day price (shared room, heroin)"), reference),
        QuoteLine(
            "room",
            _("Room: %(room)s") % {"room": RoomType(room_type).label},
            room_heroin - reference,
        ),
        QuoteLine(
            "drug", _("Drug: %(drug)s") % {"drug": Drug(history.drug).label}, cell - room_heroin
        ),
        QuoteLine(
            "severity",
            _("Severity %(score)d (%(band)s): × %(mult)s + %(sur)s")
            % {
                "score": sev.score,
                "band": band.label,
                "mult": band.multiplier,
                "sur": band.surcharge,
            },
            day_price - cell,
        ),
    ]
    return Quote(table.name, days, sev, band, lines, day_price, day_price * days)


# Days, refunds and the ledger --------------------------------------------------------------


def days_used(admitted_on: date, until: date) -> int:
    """Days are counted as nights: admission day to discharge day; a stay that ends the
    day it began counts as one day."""
    return max(1, (until - admitted_on).days)


@dataclass(frozen=True)
class Settlement:
    """What discharge does to the money: unused paid days credited, extra days charged."""

    days_used: int
    days_charged: int
    unused_days: int
    extra_days: int
    credit: Decimal
    extra_charge: Decimal


def settle(admitted_on: date, until: date, days_charged: int, price: Decimal) -> Settlement:
    if until < admitted_on:
        raise Refusal(_("Discharge cannot be before admission."), code="discharge_before")
    used = days_used(admitted_on, until)
    unused = max(0, days_charged - used)
    extra = max(0, used - days_charged)
    return Settlement(used, days_charged, unused, extra, price * unused, price * extra)


def check_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount).strip())
    except (ArithmeticError, ValueError):
        raise Refusal(_("Enter an amount in RMB, e.g. 300.00."), code="amount") from None
    if value.is_finite() and value >= MAX_AMOUNT:
        # "1e400" is a Decimal, but no amount of money: quantize() would fail on it.
        raise Refusal(_("Enter an amount in RMB, e.g. 300.00."), code="amount")
    if not value.is_finite() or value <= 0:
        raise Refusal(_("The amount must be more than zero."), code="amount")
    if value != value.quantize(FEN):
        raise Refusal(_("The amount cannot have fractions of a fen."), code="amount")
    return value.quantize(FEN)


# Taper and withdrawal ----------------------------------------------------------------------


def taper_dose(start_on: date, start_mg: int, reduce_mg: int, every_days: int, on: date) -> int:
    """The methadone ordered for a day: the start dose, reduced by `reduce_mg` after every
    `every_days` days, never below zero; nothing before the order starts."""
    if on < start_on:
        return 0
    steps = (on - start_on).days // every_days
    return max(0, start_mg - steps * reduce_mg)


def cows_total(items: dict) -> int:
    """Sum the 11 COWS items, each within its own range; refuse anything else."""
    total = 0
    for name, maximum in COWS_ITEMS:
        try:
            value = int(items.get(name, ""))
        except (TypeError, ValueError):
            raise Refusal(_("Score every COWS item."), code="cows") from None
        if not 0 <= value <= maximum:
            raise Refusal(
                _("COWS item %(item)s must be between 0 and %(max)d.")
                % {"item": name, "max": maximum},
                code="cows",
            )
        total += value
    return total
