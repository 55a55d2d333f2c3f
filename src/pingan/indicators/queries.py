"""Read models for the screens and reports: a month, a 12-month trend, the evaluation.

Every figure comes from the engines, so the dashboard, the CSV, the PDF and
`pingan indicators` cannot disagree. `for_audience` is the one place that decides whether
a set is shown in full (centre staff, CDC) or suppressed (police, anything exported).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from pingan.accounts.roles import perm

from .definitions import BY_ID, INDICATORS, IndicatorSet, Period, make_result
from .engines import compute_db
from .suppression import suppress, suppress_set

TREND_MONTHS = 12
COMPARED = (
    ("adherence", "takehome_adherence", "clinic_only_adherence"),
    ("opiate_positive_rate", "takehome_opiate_positive_rate", "clinic_only_opiate_positive_rate"),
)


def sees_full_set(user) -> bool:
    """Staff and CDC (who may see the clients behind a figure) see every figure; everyone
    else with view_indicators (the police) sees aggregates with small cells suppressed."""
    return user.has_perm(perm("drilldown_indicators"))


def month(period: Period, centre_id: int | None = None) -> IndicatorSet:
    """One month's full set: of one centre when `centre_id` is given, else the region's."""
    return compute_db(period, centre_id=centre_id)


def trend(last: Period, months: int = TREND_MONTHS) -> list[IndicatorSet]:
    """The full set for each month ending with `last`. A closed month's numbers change only
    when old records are corrected, so they are cached briefly to keep the page quick."""
    out = []
    for p in last.last(months):
        key = f"indicators:set:{p}"
        found = cache.get(key)
        if found is None:
            found = compute_db(p)
            cache.set(key, found, 60)
        out.append(found)
    return out


def for_audience(sets: list[IndicatorSet], full: bool) -> list[IndicatorSet]:
    return sets if full else [suppress_set(s) for s in sets]


@dataclass(frozen=True)
class Series:
    id: str
    label: str
    kind: str
    months: list[str]
    values: list[float | None]


def series(sets: list[IndicatorSet]) -> list[Series]:
    """One line per indicator over the months (rates as percentages)."""
    out = []
    for ind in INDICATORS:
        scale = 100 if ind.kind == "rate" else 1
        values = []
        for s in sets:
            v = s.results[ind.id].value
            values.append(None if v is None else round(v * scale, 2))
        out.append(Series(ind.id, str(ind.label), ind.kind, [str(s.period) for s in sets], values))
    return out


@dataclass(frozen=True)
class Comparison:
    measure: str
    label: str
    takehome: object
    clinic_only: object
    overall: object


def evaluation(
    first: Period, last: Period, full: bool = True, centre_id: int | None = None
) -> list[Comparison]:
    """Take-home vs clinic-only over the months from `first` to `last`, pooled: numerators
    and denominators (days, samples) add up across months, and the Wilson interval is taken
    on the pooled proportion."""
    months = []
    p = first
    while p <= last:
        months.append(p)
        p = p.shift(1)
    ids = [i for group in COMPARED for i in group]
    sums: dict[str, list[int]] = {i: [0, 0, 0, 0] for i in ids}
    for p in months:
        results = compute_db(p, ids, centre_id=centre_id).results
        for i in ids:
            r = results[i]
            sums[i][0] += r.numerator or 0
            sums[i][1] += r.denominator or 0
            # People recur from month to month: the largest month is the safe lower bound
            # of how many different people the pooled figure describes.
            sums[i][2] = max(sums[i][2], r.people or 0)
            sums[i][3] = max(sums[i][3], r.people_numerator or 0)
    pooled = {i: make_result(BY_ID[i], tuple(v)) for i, v in sums.items()}
    if not full:
        pooled = suppress(pooled)
    return [
        Comparison(overall, str(BY_ID[overall].label), pooled[th], pooled[co], pooled[overall])
        for overall, th, co in COMPARED
    ]
