"""Small-cell suppression for figures shown to the police or leaving the centre (docs/confidentiality.md).

Who sees what: the centre's staff and the CDC officers who oversee it see every figure
(`sees_every_figure`); the police see the screen set (`for_police_screen`), where only a
truly small cell is hidden (1 to 4 people, or a share leaving 1 to 4 people out); exports
keep the stricter rule below, zero included, because they leave the region.

Primary suppression hides every figure describing fewer than 5 people (SMALL_CELL, zero
included for exports). Complementary suppression then makes sure no hidden figure can be worked out
from the ones still shown: wherever figures add up (a denominator is its numerator plus
the people not in it; the adherence days of all clients are those of take-home clients
plus those of clinic-only clients; active clients are the denominator of several shares),
an equation with exactly one unknown, protected member gets a second member hidden, the
smallest shown one, until no equation gives anything away.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pingan.accounts.roles import perm

from .definitions import BY_ID, SMALL_CELL, IndicatorSet, Result

# Figures that add up across indicators: total = sum of parts.
SPLITS = (
    ("adherence", ("takehome_adherence", "clinic_only_adherence")),
    ("opiate_positive_rate", ("takehome_opiate_positive_rate", "clinic_only_opiate_positive_rate")),
)
# Denominators that equal the number of active clients.
SAME_AS_ACTIVE = (
    "mean_dose_mg",
    "adequate_dose_share",
    "hiv_tested_12m",
    "hcv_tested_12m",
    "hbv_tested_12m",
    "syphilis_tested_12m",
    "tb_screened_12m",
)
PEOPLE_COUNTS = ("people", "kits")


@dataclass
class Cells:
    """The figures of one table: value, whether shown at all, whether it must stay unknown."""

    values: dict[str, float] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)
    protected: set[str] = field(default_factory=set)
    equations: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def add(self, key: str, value, shown: bool = True, protect: bool = False) -> None:
        if value is None:
            return
        self.values[key] = value
        if shown:
            self.shown.add(key)
        if protect:
            self.protected.add(key)

    def equation(self, total: str, parts: tuple[str, ...]) -> None:
        if total in self.values and all(p in self.values for p in parts):
            self.equations.append((total, parts))


def protect(cells: Cells) -> set[str]:
    """The shown keys to hide: the protected ones and enough others that no equation has
    a single unknown member that is protected."""
    hidden = set(cells.protected & cells.shown)
    protected = set(cells.protected)
    changed = True
    while changed:
        changed = False
        for total, parts in cells.equations:
            members = (total, *parts)
            unknown = [m for m in members if m not in cells.shown or m in hidden]
            if len(unknown) != 1 or unknown[0] not in protected:
                continue
            candidates = [m for m in members if m in cells.shown and m not in hidden]
            if not candidates:
                continue
            pick = min(candidates, key=lambda m: (cells.values[m], m == total, m))
            hidden.add(pick)
            protected.add(pick)  # once hidden it must not be derivable either
            changed = True
    return hidden


def sees_every_figure(user) -> bool:
    """Centre staff who may list the clients behind a figure, and the CDC officers who
    oversee the centre's health data, see every figure unsuppressed; the police do not."""
    return user.has_perm(perm("drilldown_indicators")) or user.has_perm(perm("view_health_data"))


def _small_for(zero_is_small: bool):
    """Exports count a zero as small (it describes nobody, so it is hidden like 1 to 4);
    the police screen hides only 1 to 4: a zero, or 0 of 0, gives no one away."""
    low = 0 if zero_is_small else 1

    def small(value) -> bool:
        return value is not None and low <= value < SMALL_CELL

    return small


def cells_of(results: dict[str, Result], zero_is_small: bool = True) -> Cells:
    small_cell = _small_for(zero_is_small)
    cells = Cells()
    for ind_id, r in results.items():
        ind = BY_ID[ind_id]
        if r.numerator is None:
            continue
        if ind.kind == "count":
            cells.add(
                ind_id, r.numerator, protect=ind.unit in PEOPLE_COUNTS and small_cell(r.numerator)
            )
            continue
        n, d = f"{ind_id}.n", f"{ind_id}.d"
        if ind.unit == "people":
            cells.add(n, r.numerator, protect=small_cell(r.numerator))
            cells.add(d, r.denominator, protect=small_cell(r.denominator))
            rest = r.denominator - r.numerator
            cells.add(f"{ind_id}.c", rest, shown=False, protect=small_cell(rest))
            cells.equation(d, (n, f"{ind_id}.c"))
            continue
        # Days, samples, milligrams: the people behind them decide.
        small = small_cell(r.people)
        if ind.unit == "samples" and r.people_numerator is not None:
            small = (
                small or small_cell(r.people_numerator) or small_cell(r.people - r.people_numerator)
            )
        cells.add(n, r.numerator, protect=small)
        cells.add(d, r.denominator, protect=small)
    for total, parts in SPLITS:
        for end in (".n", ".d"):
            cells.equation(total + end, tuple(p + end for p in parts))
    for ind_id in SAME_AS_ACTIVE:
        cells.equation("active_clients", (f"{ind_id}.d",))
        cells.equation(f"{ind_id}.d", ("active_clients",))
    return cells


def suppress(results: dict[str, Result], zero_is_small: bool = True) -> dict[str, Result]:
    """The same results with every small or revealing figure replaced by None (zeros
    counted as small unless `zero_is_small` is False, as on the police screen)."""
    cells = cells_of(results, zero_is_small)
    hidden = protect(cells)
    out: dict[str, Result] = {}
    for ind_id, r in results.items():
        ind = BY_ID[ind_id]
        if r.numerator is None:
            out[ind_id] = r
        elif ind.kind == "count":
            out[ind_id] = r.hidden() if ind_id in hidden else r
        else:
            n_off, d_off = f"{ind_id}.n" in hidden, f"{ind_id}.d" in hidden
            if n_off or d_off:
                out[ind_id] = replace(
                    r.hidden(),
                    numerator=None if n_off else r.numerator,
                    denominator=None if d_off else r.denominator,
                )
            else:
                out[ind_id] = r
        out[ind_id] = replace(out[ind_id], people=None, people_numerator=None)
    return out


def suppress_set(result: IndicatorSet) -> IndicatorSet:
    """The set as it may leave the region (CSV, PDF, FHIR MeasureReports)."""
    return IndicatorSet(result.period, suppress(result.results))


def for_police_screen(result: IndicatorSet) -> IndicatorSet:
    """The set as the police see it on screen: only truly small cells hidden."""
    return IndicatorSet(result.period, suppress(result.results, zero_is_small=False))


def for_screen(sets: list[IndicatorSet], user) -> list[IndicatorSet]:
    """The sets as this user may see them on screen."""
    if sees_every_figure(user):
        return sets
    return [for_police_screen(s) for s in sets]
