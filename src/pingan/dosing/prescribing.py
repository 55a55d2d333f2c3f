"""The checks on a new prescription or taper, as pure functions: history in, checks out.

A check either needs an override (the clinician must give a reason, which is recorded and
shown wherever the prescription is) or is a warning (shown, never blocking). The limits come
from `limits.DoseLimits` (the centre's settings); docs/dosing-rules.md gives the sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from . import interactions
from .limits import DoseLimits

# Codes of the checks that need an override.
FIRST_DOSE = "first_dose"
FIRST_DAY = "first_day"
STEP = "step"
INTERVAL = "interval"
QTC_INCREASE = "qtc_increase"
PREGNANCY_TAPER = "pregnancy_taper"
OVERRIDE_CODES = (FIRST_DOSE, FIRST_DAY, STEP, INTERVAL, QTC_INCREASE, PREGNANCY_TAPER)
# Codes of the warnings.
QTC_WARN = "qtc_warn"
QTC_HIGH = "qtc_high"
ECG_DUE = "ecg_due"
INTERACTION = "interaction"
PREGNANT = "pregnant"


@dataclass(frozen=True)
class History:
    """What the checks need to know about the client (read by `safety.history`)."""

    from_mg: int | None = None  # the dose in force today; None: nothing yet (an induction)
    titration_start_on: date | None = None  # start of the latest induction (or first order)
    last_increase_on: date | None = None
    qtc_ms: int | None = None  # of the latest ECG
    ecg_on: date | None = None  # the latest ECG's date
    pregnant: bool = False
    medicines: tuple[str, ...] = ()  # taken now


@dataclass(frozen=True)
class Check:
    code: str
    message: str
    needs_override: bool = False


@dataclass
class Review:
    """What a prescription changes and every check it meets."""

    from_mg: int | None
    to_mg: int
    checks: list[Check] = field(default_factory=list)

    @property
    def overrides(self) -> list[Check]:
        return [c for c in self.checks if c.needs_override]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.needs_override]

    @property
    def difference(self) -> int | None:
        return None if self.from_mg is None else self.to_mg - self.from_mg

    @property
    def percent(self) -> Decimal | None:
        if not self.from_mg:
            return None
        change = Decimal(self.to_mg - self.from_mg) * 100 / Decimal(self.from_mg)
        return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def summary(self) -> str:
        """ "85 → 200 mg (+115 mg, +135.3%)", or "first prescription: 30 mg"."""
        if self.from_mg is None:
            return _("first prescription: %(mg)d mg") % {"mg": self.to_mg}
        return _("%(from)d → %(to)d mg (%(diff)+d mg, %(pct)s%%)") % {
            "from": self.from_mg,
            "to": self.to_mg,
            "diff": self.difference,
            "pct": f"{self.percent:+}",
        }


def cardiac_checks(history: History, mg: int, today: date, limits: DoseLimits) -> list[Check]:
    """The ECG and QTc warnings for a client on `mg` a day (prescribe screen, client page,
    worklist)."""
    checks = []
    if history.qtc_ms is not None and history.qtc_ms >= limits.qtc_block_ms:
        checks.append(
            Check(
                QTC_HIGH,
                _("QTc %(qtc)d ms (%(limit)d or more): an increase needs an override.")
                % {"qtc": history.qtc_ms, "limit": limits.qtc_block_ms},
            )
        )
    elif history.qtc_ms is not None and history.qtc_ms >= limits.qtc_warn_ms:
        checks.append(
            Check(
                QTC_WARN,
                _("QTc %(qtc)d ms (%(limit)d or more): prolonged.")
                % {"qtc": history.qtc_ms, "limit": limits.qtc_warn_ms},
            )
        )
    recent = history.ecg_on is not None and history.ecg_on >= today - timedelta(
        days=limits.ecg_valid_days
    )
    if mg >= limits.ecg_dose_mg and not recent:
        checks.append(
            Check(
                ECG_DUE,
                _("%(mg)d mg a day (%(limit)d or more) without an ECG in the last 12 months.")
                % {"mg": mg, "limit": limits.ecg_dose_mg}
                if limits.ecg_valid_days == 365
                else _("%(mg)d mg a day (%(limit)d or more) without an ECG in %(days)d days.")
                % {"mg": mg, "limit": limits.ecg_dose_mg, "days": limits.ecg_valid_days},
            )
        )
    return checks


def interaction_checks(history: History) -> list[Check]:
    return [
        Check(INTERACTION, flag.message) for flag in interactions.flags(list(history.medicines))
    ]


def review_prescription(
    history: History,
    mg: int,
    start_on: date,
    today: date,
    limits: DoseLimits,
    induction: bool = False,
    first_part_mg: int | None = None,
) -> Review:
    """Every check a new daily dose of `mg` from `start_on` meets.

    An induction (marked so, or the client's first prescription) is held to the first-dose
    limit (the first part of a split dose, or the whole dose) and the first-day limit (the
    whole day). Otherwise an increase is held to the step and the interval of the
    titration's phase: the first `early_days` after the induction started, or later."""
    review = Review(from_mg=history.from_mg, to_mg=mg)
    add = review.checks.append
    if induction or history.from_mg is None:
        first = first_part_mg if first_part_mg is not None else mg
        if first > limits.first_dose_max_mg:
            add(
                Check(
                    FIRST_DOSE,
                    _("A first dose of %(mg)d mg is above the induction limit of %(limit)d mg.")
                    % {"mg": first, "limit": limits.first_dose_max_mg},
                    needs_override=True,
                )
            )
        if mg > limits.first_day_max_mg:
            add(
                Check(
                    FIRST_DAY,
                    _("%(mg)d mg on the first day is above the limit of %(limit)d mg.")
                    % {"mg": mg, "limit": limits.first_day_max_mg},
                    needs_override=True,
                )
            )
    elif mg > history.from_mg:
        early = history.titration_start_on is None or (
            (start_on - history.titration_start_on).days < limits.early_days
        )
        step_max = limits.early_step_max_mg if early else limits.later_step_max_mg
        interval = limits.early_interval_days if early else limits.later_interval_days
        phase = (
            _("in the first %(days)d days of titration") % {"days": limits.early_days}
            if early
            else _("after the first %(days)d days of titration") % {"days": limits.early_days}
        )
        step = mg - history.from_mg
        if step > step_max:
            add(
                Check(
                    STEP,
                    _("An increase of %(step)d mg is above the limit of %(limit)d mg %(phase)s.")
                    % {"step": step, "limit": step_max, "phase": phase},
                    needs_override=True,
                )
            )
        if history.last_increase_on is not None:
            since = (start_on - history.last_increase_on).days
            if since < interval:
                add(
                    Check(
                        INTERVAL,
                        _(
                            "%(since)d day(s) since the last increase: at least %(limit)d "
                            "are needed %(phase)s."
                        )
                        % {"since": since, "limit": interval, "phase": phase},
                        needs_override=True,
                    )
                )
        if history.qtc_ms is not None and history.qtc_ms >= limits.qtc_block_ms:
            add(
                Check(
                    QTC_INCREASE,
                    _("QTc %(qtc)d ms (%(limit)d or more): an increase needs an override.")
                    % {"qtc": history.qtc_ms, "limit": limits.qtc_block_ms},
                    needs_override=True,
                )
            )
    cardiac = cardiac_checks(history, mg, today, limits)
    if any(c.code == QTC_INCREASE for c in review.checks):
        cardiac = [c for c in cardiac if c.code != QTC_HIGH]
    review.checks.extend(cardiac)
    review.checks.extend(interaction_checks(history))
    if history.pregnant:
        add(Check(PREGNANT, _("Pregnant: consider splitting the dose.")))
    return review


def review_taper(history: History) -> list[Check]:
    """A taper while the client is pregnant needs an override: withdrawal risks the
    pregnancy, and the usual advice is to keep (or split) the dose until after delivery."""
    if not history.pregnant:
        return []
    return [
        Check(
            PREGNANCY_TAPER,
            _("The client is pregnant: a taper needs an override."),
            needs_override=True,
        )
    ]
