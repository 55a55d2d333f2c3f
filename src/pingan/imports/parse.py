"""Reading the legacy CSV files and checking each row on its own (types, ranges, choices).

Checks that need other rows or the database live in validate.py. Every problem becomes a
RowError; nothing stops at the first one, so the operator fixes the whole file in one go."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.utils.translation import gettext as _

from pingan.dosing.limits import MAX_MG, MIN_MG
from pingan.labs.models import Analyte, Result, TestKind

from .errors import RowError

# file name -> (required columns, optional columns)
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "clients.csv": (
        ("code", "alias", "sex", "birth_year", "enrolled_on"),
        ("name", "national_id", "phone", "address"),
    ),
    "doses.csv": (("client_code", "date", "mg", "kind"), ()),
    "urine.csv": (("client_code", "date", "analyte", "result"), ()),
    "tests.csv": (("client_code", "date", "test", "result"), ()),
    "discharges.csv": (("client_code", "date", "reason"), ()),
}
IDENTITY_COLUMNS = FILES["clients.csv"][1]
SEXES = ("M", "F", "X")
# Python reads a NUL character as text, SQLite would store it, PostgreSQL refuses it in any
# text column: a row holding one is bad on both, reported like any other bad cell.
NUL = "\x00"


def nul_reason() -> str:
    return _("contains a NUL character (byte 0), which cannot be stored")


DOSE_KINDS = ("clinic", "takehome")


@dataclass(slots=True)
class ClientRow:
    line: int
    code: str
    alias: str
    sex: str
    birth_year: int
    enrolled_on: date
    identity: dict[str, str]


@dataclass(slots=True)
class DoseRow:
    line: int
    code: str
    date: date
    mg: int
    kind: str


@dataclass(slots=True)
class UrineRow:
    line: int
    code: str
    date: date
    analyte: str
    result: str


@dataclass(slots=True)
class InfectionTestRow:
    line: int
    code: str
    date: date
    test: str
    result: str


@dataclass(slots=True)
class DischargeRow:
    line: int
    code: str
    date: date
    reason: str


class _Row:
    """One CSV record being checked: reads cells and collects every problem it finds."""

    def __init__(self, file: str, line: int, cells: dict[str, str], today: date):
        self.file, self.line, self.cells, self.today = file, line, cells, today
        self.errors: list[RowError] = []

    def bad(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.file, self.line, column, reason))

    def text(self, column: str, max_length: int, required: bool = True) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.bad(column, _("empty"))
        elif len(value) > max_length:
            self.bad(column, _("longer than %(max)d characters") % {"max": max_length})
        return value

    def day(self, column: str) -> date | None:
        value = self.cells.get(column, "")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.bad(column, _("bad date %(value)s (expected YYYY-MM-DD)") % {"value": repr(value)})
            return None
        if parsed > self.today:
            self.bad(column, _("future date %(value)s") % {"value": value})
            return None
        if parsed.year < 1900:
            self.bad(column, _("date %(value)s before 1900") % {"value": value})
            return None
        return parsed

    def integer(self, column: str, low: int, high: int) -> int | None:
        value = self.cells.get(column, "")
        try:
            number = int(value)
        except ValueError:
            self.bad(column, _("not a whole number: %(value)s") % {"value": repr(value)})
            return None
        if not low <= number <= high:
            self.bad(
                column,
                _("%(number)d out of range %(low)d..%(high)d")
                % {"number": number, "low": low, "high": high},
            )
            return None
        return number

    def choice(self, column: str, allowed: tuple[str, ...], fold=str.lower) -> str | None:
        value = fold(self.cells.get(column, ""))
        if value not in allowed:
            self.bad(
                column,
                _("%(value)s is not one of %(allowed)s")
                % {"value": repr(self.cells.get(column, "")), "allowed": ", ".join(allowed)},
            )
            return None
        return value


def _decode(path: Path) -> tuple[str | None, RowError | None]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, RowError(path.name, line, "", _("not UTF-8 text (save the file as UTF-8)"))


def read_rows(path: Path, today: date, make: Callable[[_Row], object | None], key: str = ""):
    """Parse one file: (records, errors, keys of bad rows). BOM, CRLF and quoted commas are
    handled by the csv module reading the decoded text with newline=''."""
    name = path.name
    required, optional = FILES[name]
    text, error = _decode(path)
    if error:
        return [], [error], set()
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if any(NUL in h for h in header):
        return [], [RowError(name, 1, "", nul_reason())], set()
    errors = [RowError(name, 1, c, _("column missing")) for c in required if c not in header]
    errors += [
        RowError(name, 1, c or "?", _("unknown column"))
        for c in header
        if c not in required and c not in optional
    ]
    if len(set(header)) != len(header):
        errors.append(RowError(name, 1, "", _("a column appears twice")))
    if errors:
        return [], errors, set()
    records, bad_keys = [], set()
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(
                RowError(
                    name,
                    line,
                    "",
                    _("%(fields)d fields, the header has %(header)d")
                    % {"fields": len(values), "header": len(header)},
                )
            )
            continue
        row = _Row(name, line, {h: v.strip() for h, v in zip(header, values, strict=True)}, today)
        for column, value in row.cells.items():
            if NUL in value:
                row.bad(column, nul_reason())
        record = make(row)
        if row.errors:
            errors += row.errors
            bad_keys.add(row.cells.get(key, ""))
        else:
            records.append(record)
    return records, errors, bad_keys


def client_row(row: _Row) -> ClientRow:
    code = row.text("code", 40)
    alias = row.text("alias", 80)
    sex = row.choice("sex", SEXES, fold=str.upper)
    birth_year = row.integer("birth_year", 1900, row.today.year)
    enrolled_on = row.day("enrolled_on")
    identity = {c: row.cells[c] for c in IDENTITY_COLUMNS if row.cells.get(c)}
    return ClientRow(row.line, code, alias, sex, birth_year, enrolled_on, identity)


def dose_row(row: _Row) -> DoseRow:
    return DoseRow(
        row.line,
        row.text("client_code", 40),
        row.day("date"),
        row.integer("mg", MIN_MG, MAX_MG),
        row.choice("kind", DOSE_KINDS),
    )


def urine_row(row: _Row) -> UrineRow:
    return UrineRow(
        row.line,
        row.text("client_code", 40),
        row.day("date"),
        row.choice("analyte", tuple(Analyte.values)),
        row.choice("result", tuple(Result.values)),
    )


def infection_test_row(row: _Row) -> InfectionTestRow:
    return InfectionTestRow(
        row.line,
        row.text("client_code", 40),
        row.day("date"),
        row.choice("test", tuple(TestKind.values)),
        row.choice("result", tuple(Result.values)),
    )


def discharge_row(row: _Row) -> DischargeRow:
    return DischargeRow(
        row.line, row.text("client_code", 40), row.day("date"), row.text("reason", 300, False)
    )


MAKERS = {
    "clients.csv": client_row,
    "doses.csv": dose_row,
    "urine.csv": urine_row,
    "tests.csv": infection_test_row,
    "discharges.csv": discharge_row,
}
