"""How numbers are written for people: money in yuan, shares as percentages, counts as
whole numbers, and an amount in capital numerals (大写) as a Chinese receipt states it.

Pure functions, no database: the template filters in `core/templatetags/numbers.py`, the
indicator screens and the receipts all call these, so a figure reads the same everywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
LARGEST = Decimal(10) ** 15
# A no-break space keeps "98.6 %" on one line.
PERCENT_SIGN = "\u00a0%"

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    # Beyond a trillion yuan is no amount of money, and quantize() would fail on it.
    return number if number.is_finite() and abs(number) < LARGEST else None


def yuan(value, symbol: bool = True) -> str:
    """¥1,234.50; a negative amount as -¥1,234.50; "" for no amount."""
    number = _decimal(value)
    if number is None:
        return ""
    number = number.quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    return f"{sign}{'¥' if symbol else ''}{abs(number):,.2f}"


def percent(share, places: int = 1) -> str:
    """A share (0.986) as a percentage ("98.6 %"); "" for no value."""
    number = _decimal(share)
    if number is None:
        return ""
    return f"{float(number) * 100:.{places}f}{PERCENT_SIGN}"


def count(value) -> str:
    """A count as a whole number with thousands separators (1.00 → "1", 12345 → "12,345")."""
    number = _decimal(value)
    if number is None:
        return ""
    return f"{int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}"


def _four_digits(group: int) -> str:
    """0–9999 in capital numerals, with 零 for inner zeros (1001 → 壹仟零壹)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def _integer_capital(number: int) -> str:
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    text = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or group < 1000):
            text += "零"
        text += _four_digits(group) + _BIG_UNITS[index]
        need_zero = False
    return text


def capital_yuan(amount) -> str:
    """An amount in yuan in capital numerals, as written on a Chinese receipt:
    0 → 零元整, 0.05 → 伍分, 10 → 壹拾元整, 100.10 → 壹佰元壹角整,
    1,000,000.01 → 壹佰万元零壹分, 100,000 → 壹拾万元整.
    Amounts are rounded half up to the fen; a negative amount is refused (ValueError)."""
    number = _decimal(amount)
    if number is None:
        raise ValueError(f"not an amount: {amount!r}")
    if number < 0:
        raise ValueError("a receipt amount is never negative")
    fen_total = int((number.quantize(FEN, rounding=ROUND_HALF_UP) * 100).to_integral_value())
    whole, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    text = ""
    if whole:
        # 拾 is always written with its digit (壹拾), so no one can add one in front.
        text = _integer_capital(whole) + "元"
    if jiao == 0 and fen == 0:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
        if not fen:
            # Written up to the jiao, the amount ends with 整 (up to the fen it does not).
            return text + "整"
    elif whole:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text
