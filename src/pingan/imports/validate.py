"""Checks across rows, files and the database, done set-based (a few queries in all, never
one per row), producing the plan of what to write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from pingan.core.models import Centre
from pingan.dosing.models import Dose
from pingan.labs.models import InfectionTest, UrineResult
from pingan.registry.actions import centres_treating, national_id_index, phone_index, treatment_key
from pingan.registry.models import Client, DischargeReason, Episode
from pingan.registry.rules import check_not_treated_elsewhere

from .errors import RowError
from .parse import ClientRow, DischargeRow, DoseRow, InfectionTestRow, UrineRow

CHUNK = 500  # keeps every IN (...) under SQLite's 999 parameters


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class _Episode:
    enrolled_on: date
    discharged_on: date | None
    pk: int | None = None  # None: created by this import

    def covers(self, day: date) -> bool:
        """In treatment from enrolment up to the day before discharge (docs/indicators.md)."""
        return self.enrolled_on <= day and (self.discharged_on is None or day < self.discharged_on)


@dataclass
class Plan:
    """Everything the import will write, already checked."""

    clients: list[ClientRow] = field(default_factory=list)
    discharges: dict[str, DischargeRow] = field(default_factory=dict)  # new clients
    closed_episodes: list[tuple[int, DischargeRow]] = field(default_factory=list)  # db clients
    doses: list[DoseRow] = field(default_factory=list)
    urine: dict[tuple[str, date], list[UrineRow]] = field(default_factory=dict)
    tests: list[InfectionTestRow] = field(default_factory=list)
    db_clients: dict[str, int] = field(default_factory=dict)


def discharge_reason(text: str) -> tuple[str, str]:
    """Legacy reasons are free text: a known reason code is kept, anything else is
    'other' with the text as the note, so nothing the old system said is lost."""
    if text.lower() in DischargeReason.values:
        return text.lower(), ""
    return DischargeReason.OTHER.value, text[:300]


def check(
    rows: dict[str, list], errors: list[RowError], bad_codes: set[str], centre: Centre
) -> Plan:
    """Cross-row checks for an import into `centre`; `bad_codes` are codes of clients.csv
    rows already reported, whose doses and samples are not reported again as "unknown
    client". Client codes are looked up in `centre` only (each centre numbers its own)."""
    plan = Plan()
    clients: list[ClientRow] = rows.get("clients.csv", [])
    first_line: dict[str, int] = {}
    for c in clients:
        if c.code in first_line:
            errors.append(
                RowError(
                    "clients.csv",
                    c.line,
                    "code",
                    _("%(code)s also on line %(line)d")
                    % {"code": c.code, "line": first_line[c.code]},
                )
            )
        else:
            first_line[c.code] = c.line
    taken = set()
    for chunk in chunks(list(first_line)):
        taken.update(
            Client.objects.filter(centre=centre, code__in=chunk).values_list("code", flat=True)
        )
    for c in clients:
        if c.code in taken:
            errors.append(
                RowError(
                    "clients.csv",
                    c.line,
                    "code",
                    _("client %(code)s already exists") % {"code": c.code},
                )
            )
    plan.clients = [c for c in clients if c.code not in taken and first_line[c.code] == c.line]

    episodes: dict[str, list[_Episode]] = {
        c.code: [_Episode(c.enrolled_on, None)] for c in plan.clients
    }
    new_codes = set(episodes)
    referenced = {
        r.code
        for name in ("doses.csv", "urine.csv", "tests.csv", "discharges.csv")
        for r in rows.get(name, [])
    } - new_codes
    for chunk in chunks(sorted(referenced)):
        plan.db_clients.update(
            Client.objects.filter(centre=centre, code__in=chunk).values_list("code", "pk")
        )
    code_of = {pk: code for code, pk in plan.db_clients.items()}
    for chunk in chunks(list(code_of)):
        for ep in Episode.objects.filter(client_id__in=chunk).order_by("enrolled_on"):
            episodes.setdefault(code_of[ep.client_id], []).append(
                _Episode(ep.enrolled_on, ep.discharged_on, ep.pk)
            )

    def known(name: str, rows_: list) -> list:
        good = []
        for r in rows_:
            if r.code in new_codes or r.code in plan.db_clients:
                good.append(r)
            elif r.code not in first_line and r.code not in bad_codes:
                errors.append(
                    RowError(
                        name,
                        r.line,
                        "client_code",
                        _("unknown client code %(code)s") % {"code": r.code},
                    )
                )
        return good

    _check_discharges(
        known("discharges.csv", rows.get("discharges.csv", [])), episodes, new_codes, plan, errors
    )
    _check_region(plan, centre, errors)
    _check_doses(known("doses.csv", rows.get("doses.csv", [])), episodes, plan, errors)
    _check_urine(known("urine.csv", rows.get("urine.csv", [])), plan, errors)
    _check_tests(known("tests.csv", rows.get("tests.csv", [])), plan, errors)
    return plan


def _check_region(plan: Plan, centre: Centre, errors: list[RowError]) -> None:
    """A person in treatment at another centre of the region cannot be enrolled here too:
    their row is bad, found as enrolment finds them (`registry.actions.treatment_key`): by
    the blind index of the document number, or, in a row without one, of the phone number.
    A client the same import discharges again is history, not a second active enrolment."""
    wanted: dict[tuple[str, str], list[ClientRow]] = {}
    for c in plan.clients:
        if c.code in plan.discharges:
            continue
        key = treatment_key(
            national_id_index(c.identity.get("national_id", "")),
            phone_index(c.identity.get("phone", "")),
        )
        if key is not None:
            wanted.setdefault(key, []).append(c)
    for key, centres in centres_treating(wanted, centre.pk).items():
        by_phone = key[0] == "phone_index"
        reason = check_not_treated_elsewhere(centres, by_phone=by_phone).reason
        for c in wanted[key]:
            errors.append(
                RowError("clients.csv", c.line, "phone" if by_phone else "national_id", reason)
            )


def _check_discharges(rows, episodes, new_codes, plan: Plan, errors) -> None:
    seen: dict[str, int] = {}
    for r in rows:
        if r.code in seen:
            errors.append(
                RowError(
                    "discharges.csv",
                    r.line,
                    "client_code",
                    _("%(code)s also discharged on line %(line)d")
                    % {"code": r.code, "line": seen[r.code]},
                )
            )
            continue
        seen[r.code] = r.line
        open_ = [e for e in episodes.get(r.code, []) if e.discharged_on is None]
        if not open_:
            errors.append(
                RowError(
                    "discharges.csv",
                    r.line,
                    "client_code",
                    _("%(code)s has no open episode to close") % {"code": r.code},
                )
            )
            continue
        episode = open_[-1]
        if r.date < episode.enrolled_on:
            errors.append(
                RowError(
                    "discharges.csv",
                    r.line,
                    "date",
                    _("discharge %(date)s before enrolment %(enrolled)s")
                    % {"date": r.date, "enrolled": episode.enrolled_on},
                )
            )
            continue
        episode.discharged_on = r.date
        if r.code in new_codes:
            plan.discharges[r.code] = r
        else:
            plan.closed_episodes.append((episode.pk, r))


def _check_doses(rows: list[DoseRow], episodes, plan: Plan, errors) -> None:
    seen: dict[tuple[str, date], int] = {}
    existing: set[tuple[str, date]] = set()
    in_db = sorted({plan.db_clients[r.code] for r in rows if r.code in plan.db_clients})
    if in_db:
        low, high = min(r.date for r in rows), max(r.date for r in rows)
        code_of = {pk: code for code, pk in plan.db_clients.items()}
        for chunk in chunks(in_db):
            for client_id, day in Dose.objects.filter(
                client_id__in=chunk, date__gte=low, date__lte=high
            ).values_list("client_id", "date"):
                existing.add((code_of[client_id], day))
    for r in rows:
        key = (r.code, r.date)
        if key in seen:
            errors.append(
                RowError(
                    "doses.csv",
                    r.line,
                    "date",
                    _("second dose for %(code)s on %(date)s (also line %(line)d)")
                    % {"code": r.code, "date": r.date, "line": seen[key]},
                )
            )
            continue
        seen[key] = r.line
        if key in existing:
            errors.append(
                RowError(
                    "doses.csv",
                    r.line,
                    "date",
                    _("%(code)s already has a dose on %(date)s") % {"code": r.code, "date": r.date},
                )
            )
        elif not any(e.covers(r.date) for e in episodes.get(r.code, [])):
            errors.append(
                RowError(
                    "doses.csv",
                    r.line,
                    "date",
                    _("dose on %(date)s outside any treatment episode of %(code)s")
                    % {"date": r.date, "code": r.code},
                )
            )
        else:
            plan.doses.append(r)


def _existing(
    model_rows: Iterable[tuple[int, date, str]], plan: Plan
) -> set[tuple[str, date, str]]:
    code_of = {pk: code for code, pk in plan.db_clients.items()}
    return {(code_of[c], d, k) for c, d, k in model_rows}


def _check_urine(rows: list[UrineRow], plan: Plan, errors) -> None:
    in_db = sorted({plan.db_clients[r.code] for r in rows if r.code in plan.db_clients})
    existing: set = set()
    for chunk in chunks(in_db):
        existing |= _existing(
            UrineResult.objects.filter(sample__client_id__in=chunk).values_list(
                "sample__client_id", "sample__collected_on", "analyte"
            ),
            plan,
        )
    seen: dict[tuple, int] = {}
    for r in rows:
        key = (r.code, r.date, r.analyte)
        if key in seen:
            errors.append(
                RowError(
                    "urine.csv",
                    r.line,
                    "analyte",
                    _("%(analyte)s for %(code)s on %(date)s also on line %(line)d")
                    % {"analyte": r.analyte, "code": r.code, "date": r.date, "line": seen[key]},
                )
            )
            continue
        seen[key] = r.line
        if key in existing:
            errors.append(
                RowError(
                    "urine.csv",
                    r.line,
                    "analyte",
                    _("%(analyte)s for %(code)s on %(date)s already recorded")
                    % {"analyte": r.analyte, "code": r.code, "date": r.date},
                )
            )
        else:
            plan.urine.setdefault((r.code, r.date), []).append(r)


def _check_tests(rows: list[InfectionTestRow], plan: Plan, errors) -> None:
    in_db = sorted({plan.db_clients[r.code] for r in rows if r.code in plan.db_clients})
    existing: set = set()
    for chunk in chunks(in_db):
        existing |= _existing(
            InfectionTest.objects.filter(client_id__in=chunk).values_list(
                "client_id", "tested_on", "test"
            ),
            plan,
        )
    seen: dict[tuple, int] = {}
    for r in rows:
        key = (r.code, r.date, r.test)
        if key in seen:
            errors.append(
                RowError(
                    "tests.csv",
                    r.line,
                    "test",
                    _("%(test)s test for %(code)s on %(date)s also on line %(line)d")
                    % {"test": r.test, "code": r.code, "date": r.date, "line": seen[key]},
                )
            )
        elif key in existing:
            errors.append(
                RowError(
                    "tests.csv",
                    r.line,
                    "test",
                    _("%(test)s test for %(code)s on %(date)s already recorded")
                    % {"test": r.test, "code": r.code, "date": r.date},
                )
            )
        else:
            plan.tests.append(r)
        seen.setdefault(key, r.line)
