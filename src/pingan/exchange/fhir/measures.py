"""Measure (each indicator's definition) and MeasureReport (its value for one month).

The numbers are the indicator engine's (`indicators.queries.month`), the same that the
dashboard, the report and `pingan indicators` show. Reports cover every complete month
from the first dose (or from `--since`) to the month before today. For the police
audience each month's set is small-cell suppressed first, and a suppressed cell is left
out of the report rather than written as a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.db.models import Min

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.indicators.definitions import INDICATORS, Indicator, Period
from pingan.indicators.queries import month
from pingan.indicators.suppression import suppress_set

from . import codes
from .scope import Scope

SCORING = {"count": "cohort", "rate": "proportion", "mean": "ratio"}
UNITS = {"mg": "mg", "days": "d"}


def measure_id(ind: Indicator) -> str:
    return ind.id.replace("_", "-")


def measure_url(ind: Indicator) -> str:
    return codes.system(f"Measure/{measure_id(ind)}")


def measures(scope: Scope) -> Iterator[dict]:
    for ind in INDICATORS:
        definition = [f"Population: {ind.population}", f"Numerator: {ind.numerator}"]
        if ind.denominator:
            definition.append(f"Denominator: {ind.denominator}")
        yield {
            "resourceType": "Measure",
            "id": measure_id(ind),
            "url": measure_url(ind),
            "name": ind.id,
            "title": str(ind.label),
            "status": "active",
            "description": str(ind.description),
            "scoring": {"coding": [{"system": codes.MEASURE_SCORING, "code": SCORING[ind.kind]}]},
            "definition": definition,
        }


def count_measures(scope: Scope) -> int:
    return len(INDICATORS)


def months(scope: Scope) -> list[Period]:
    """Every complete month from the first dose (or `since`) to last month."""
    first = scope.records(Dose.objects.all()).aggregate(first=Min("date"))["first"]
    if first is None:
        return []
    if scope.since and scope.since > first:
        first = scope.since
    last = Period.of(clock.today()).shift(-1)
    out, period = [], Period.of(first)
    while period <= last:
        out.append(period)
        period = period.shift(1)
    return out


def _population(code: str, count: int) -> dict:
    return {
        "code": {"coding": [{"system": codes.MEASURE_POPULATION, "code": code}]},
        "count": count,
    }


def report_id(centre_code: str, ind: Indicator, period: Period) -> str:
    readable = f"{re.sub(r'[^A-Za-z0-9.-]', '-', centre_code)}-{measure_id(ind)}-{period}"
    return readable if len(readable) <= 64 else codes.derived_id("report", readable)


def measure_reports(scope: Scope) -> Iterator[dict]:
    for period in months(scope):
        found = month(period, scope.centre.pk)
        if scope.audience != "cdc":
            found = suppress_set(found)
        for ind in INDICATORS:
            yield _report(scope, ind, period, found.results[ind.id])


def _report(scope: Scope, ind: Indicator, period: Period, result) -> dict:
    report = {
        "resourceType": "MeasureReport",
        "id": report_id(scope.centre.code, ind, period),
        "status": "complete",
        "type": "summary",
        "measure": measure_url(ind),
        "date": scope.now,
        "reporter": scope.organization,
        "period": {"start": period.start, "end": period.end},
    }
    group: dict = {}
    if ind.kind == "count":
        if result.numerator is not None:
            group["population"] = [_population("initial-population", result.numerator)]
    else:
        populations = []
        if result.numerator is not None:
            populations.append(_population("numerator", result.numerator))
        if result.denominator is not None:
            populations.append(_population("denominator", result.denominator))
        if populations:
            group["population"] = populations
        if result.value is not None:
            score = {"value": result.value}
            unit = UNITS.get(ind.unit) if ind.kind == "mean" else None
            if unit:
                score.update(unit=unit, system=codes.UCUM, code=unit)
            group["measureScore"] = score
    if group:
        report["group"] = [group]
    return report


def count_measure_reports(scope: Scope) -> int:
    return len(months(scope)) * len(INDICATORS)
