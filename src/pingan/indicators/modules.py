"""Indicators whose data belong to other apps: referrals, services and the inpatient unit.

Those apps own their records and the functions that read them (`<app>/queries.py`, one per
indicator, each returning numerator and denominator); the definition stays in
`definitions.py`, and this module only calls the owner's function and turns its answer
into a `Result`. An app that is not installed gives a null value with a note, not an error.
"""

from __future__ import annotations

import importlib
import inspect

from django.utils.translation import gettext as _

from .definitions import Indicator, Period, Result, unavailable

# indicator id → (module, function)
PROVIDERS: dict[str, tuple[str, str]] = {
    "art_linked_share": ("pingan.referrals.queries", "art_linked_share"),
    "police_referrals": ("pingan.referrals.queries", "police_referrals"),
    "referrals_enrolled_30d": ("pingan.referrals.queries", "referrals_enrolled_30d"),
    "referred_retained_3m": ("pingan.referrals.queries", "referred_retained_3m"),
    "naloxone_kits": ("pingan.services.queries", "naloxone_kits"),
    "counselling_sessions": ("pingan.services.queries", "counselling_sessions"),
    "inpatient_occupancy": ("pingan.inpatient.queries", "occupancy"),
    "inpatient_mean_los_days": ("pingan.inpatient.queries", "mean_los_days"),
    "inpatient_readmission_12m": ("pingan.inpatient.queries", "readmission_12m"),
}


def compute(
    ind: Indicator, period: Period, centre_id: int | None = None, station_id: int | None = None
) -> Result:
    """The owner's figure, of one centre when `centre_id` is given (and of one police
    station's referrals when `station_id` is): a provider that cannot cut its records that
    way (no such parameter) gives a null with a note then, never the region's figure under
    a centre's or a station's name."""
    module_name, function = PROVIDERS[ind.id]
    try:
        provider = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError):
        return unavailable(_("module not installed"))
    cuts = {
        name: value
        for name, value in (("centre_id", centre_id), ("station_id", station_id))
        if value is not None
    }
    accepted = inspect.signature(provider).parameters
    if any(name not in accepted for name in cuts):
        return unavailable(
            _("not available for one centre")
            if "centre_id" not in accepted and centre_id
            else _("not available for one station")
        )
    measure = provider(str(period), **cuts)
    numerator = int(measure.numerator)
    denominator = None if measure.denominator is None else int(measure.denominator)
    if ind.kind == "count":
        people = numerator if ind.unit == "people" else None
        return Result(float(numerator), numerator, None, people=people, people_numerator=people)
    value = numerator / denominator if denominator else None
    # A mean over stays describes as many people as stays; a share of people, its parts.
    people = denominator if ind.unit == "people" or ind.kind == "mean" else None
    counted = numerator if ind.unit == "people" else None
    return Result(value, numerator, denominator, people=people, people_numerator=counted)
