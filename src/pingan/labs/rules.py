"""Pure decisions about urine screens and the random test schedule (no database).

Why pure: the take-home eligibility engine, the indicators and the screens all ask "was
this sample opioid-positive?" and must get the same answer with the same reason."""

from __future__ import annotations

import calendar
import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from .models import Analyte, Result

ANALYTES: tuple[str, ...] = tuple(Analyte.values)
RESULTS: tuple[str, ...] = tuple(Result.values)

# The analytes that make a sample opioid-positive: street heroin is metabolised to morphine
# and shows on the opiates screen, while methadone (the treatment itself, and its metabolite
# EDDP) must not count against a client, nor other drugs (benzodiazepines, amphetamines,
# ketamine), which the take-home standard does not judge. Fentanyl, tramadol and
# buprenorphine are opioids with screens of their own and stay outside it too: tramadol and
# buprenorphine are often prescribed, and the take-home standard and the opioid-positive
# indicator are defined on the heroin screen, so a wider panel changes no past figure and
# no take-home decision; their results are shown to the clinician on the labs page.
# This tuple is the one definition: the database trigger
# that keeps `UrineSample.opioid` (opioid_sql), the indicator SQL and DuckDB queries and
# the take-home engines are all generated from it or call `opioid_positive`.
OPIOID_ANALYTES: tuple[str, ...] = (Analyte.OPIATES.value, Analyte.MORPHINE.value)


@dataclass(frozen=True)
class OpioidDecision:
    """Whether a sample counts as opioid-positive, and why."""

    positive: bool | None  # None: the sample has no opioid result at all
    reason: str


def opioid_outcome(results: Mapping[str, str]) -> bool | None:
    """What `opioid_positive` decides, without the reason: for the engines that judge
    every sample of a client's history and show no reason per sample."""
    tested = [results[a] for a in OPIOID_ANALYTES if a in results]
    return Result.POSITIVE in tested if tested else None


def opioid_positive(results: Mapping[str, str]) -> OpioidDecision:
    """A sample is opioid-positive if one of `OPIOID_ANALYTES` (opiates, morphine) is
    positive, negative if one of them has a result and none is positive.

    A sample without either analyte has no opioid result: it is neither positive nor
    negative, so it does not enter the positive rate's denominator."""
    outcome = opioid_outcome(results)
    tested = sorted(a for a in OPIOID_ANALYTES if a in results)
    if outcome:
        positives = [a for a in tested if results[a] == Result.POSITIVE]
        return OpioidDecision(True, f"{', '.join(positives)} positive")
    if outcome is False:
        return OpioidDecision(False, f"{', '.join(tested)} negative")
    return OpioidDecision(None, f"no {' or '.join(OPIOID_ANALYTES)} result")


@dataclass(frozen=True)
class SampleProblem:
    analyte: str
    reason: str


def validate_results(results: Mapping[str, str]) -> list[SampleProblem]:
    """Every analyte must be known and every result positive/negative; at least one."""
    problems: list[SampleProblem] = []
    if not results:
        problems.append(SampleProblem("", "no analyte result given"))
    for analyte, result in results.items():
        if analyte not in ANALYTES:
            problems.append(SampleProblem(analyte, f"unknown analyte {analyte!r}"))
        elif result not in RESULTS:
            problems.append(
                SampleProblem(analyte, f"result must be positive or negative, not {result!r}")
            )
    return problems


def month_days(month: date) -> list[date]:
    """Every day of the month `month` falls in."""
    first = month.replace(day=1)
    count = calendar.monthrange(first.year, first.month)[1]
    return [first + timedelta(days=i) for i in range(count)]


@dataclass(frozen=True)
class ClientSchedule:
    """The days drawn for one client in one month, and why that many."""

    client_code: str
    days: tuple[date, ...]
    reason: str
    already: tuple[date, ...] = field(default=())


def _rng(seed: int | None, client_code: str, month: date) -> random.Random:
    """Per client and month, so adding a client never changes anyone else's days; with no
    seed the draw is unpredictable (the point of an unannounced test)."""
    if seed is None:
        return random.SystemRandom()
    material = f"{seed}:{client_code}:{month:%Y-%m}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))


def draw_schedule(
    client_code: str,
    month: date,
    eligible_days: Iterable[date],
    per_month: int,
    *,
    seed: int | None = None,
    already: Iterable[date] = (),
) -> ClientSchedule:
    """Draw up to `per_month` distinct days among `eligible_days` (the centre's open days
    while the client is in treatment), topping up whatever was already scheduled."""
    eligible = sorted(set(eligible_days))
    existing = tuple(sorted(set(already)))
    wanted = max(per_month - len(existing), 0)
    pool = [d for d in eligible if d not in set(existing)]
    if wanted == 0:
        return ClientSchedule(
            client_code, (), f"{len(existing)} of {per_month} already scheduled", existing
        )
    if len(pool) <= wanted:
        days = tuple(pool)
        reason = f"{len(days)} of {per_month}: only {len(eligible)} open days in treatment"
    else:
        days = tuple(sorted(_rng(seed, client_code, month).sample(pool, wanted)))
        reason = f"{len(days)} of {len(eligible)} open days in treatment"
    if existing:
        reason += f" (+{len(existing)} already scheduled)"
    return ClientSchedule(client_code, days, reason, existing)


def open_days(month: date, closed: Iterable[date] = ()) -> list[date]:
    """The centre's open days in a month: every day except the given closed days.

    A methadone clinic doses every day of the year; statutory holidays are passed in as
    `closed` by the caller (see actions.closed_days) so this stays free of calendars."""
    shut = set(closed)
    return [d for d in month_days(month) if d not in shut]
