"""The range a methadone dose must fall in, in whole milligrams: the one definition.

Every dose the clinic records — a prescription, a taper's start, a dose given in clinic, a
take-home bottle, a row of an imported register — is 1 to 400 mg. The floor is one
milligram because a "dose" of 0 mg is no dose (a taper that reaches 0 ends; nothing is
dispensed). The ceiling is well above the maintenance doses clinics give (most clients take
60–120 mg; a few need much more): it is not a clinical limit, which the induction and
titration rules and the clinician decide, but a guard against a slip of the keyboard (an
extra digit) reaching the bottle.

The actions and forms read these names; the database's check constraints on
`Prescription.mg`, `Dose.mg` and `TakeHomeBottle.mg` carry the same numbers (a migration
freezes them), and tests/dosing/test_dosing_limits.py holds them equal to these.
"""

from dataclasses import dataclass

MIN_MG = 1
MAX_MG = 400


# Induction, titration and cardiac limits --------------------------------------------------
#
# The centre may change each of these (`DosingLimits`, edited on the dosing settings
# screen); these are the defaults, with their sources in docs/dosing-rules.md. Every check
# that uses one reads it from a `DoseLimits` value, never from a literal.

QTC_MIN_MS = 300
QTC_MAX_MS = 700
"""A QTc outside this range is a typing or machine error, not a measurement: refused."""


@dataclass(frozen=True)
class DoseLimits:
    """The induction and titration limits of a centre (milligrams, days, milliseconds).

    - The first dose of an induction is at most `first_dose_max_mg`, the whole first day at
      most `first_day_max_mg` (a second part may follow the first on that day).
    - During the first `early_days` of a titration an increase is at most
      `early_step_max_mg` and comes no sooner than `early_interval_days` after the last
      increase; afterwards `later_step_max_mg` and `later_interval_days`.
    - A daily dose of `ecg_dose_mg` or more needs an ECG within `ecg_valid_days`.
    - A QTc of `qtc_warn_ms` or more is a warning; from `qtc_block_ms` an increase needs an
      override.
    - After a run of missed days long enough for re-induction, the dose is capped at
      `first_dose_max_mg` until a new induction is prescribed.
    """

    first_dose_max_mg: int = 30
    first_day_max_mg: int = 40
    early_days: int = 28
    early_step_max_mg: int = 10
    early_interval_days: int = 3
    later_step_max_mg: int = 20
    later_interval_days: int = 5
    ecg_dose_mg: int = 120
    ecg_valid_days: int = 365
    qtc_warn_ms: int = 450
    qtc_block_ms: int = 500


DEFAULT_LIMITS = DoseLimits()
LIMIT_FIELDS = tuple(DoseLimits.__dataclass_fields__)
