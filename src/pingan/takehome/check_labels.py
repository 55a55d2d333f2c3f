"""The take-home checks by name, in the reader's language.

A check's name (`rules.Check.name`: "tier_6d", "adherence_90d_95pct", "consent_sms", …) is
what the eligibility JSON and the stored snapshots carry; screens show this label beside the
evidence instead. A name not matched here is shown humanised, never hidden."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from pingan.registry.models import Purpose

_PATTERNS = (
    (re.compile(r"tier_(\d+)d"), lambda m: _("Tier of %(n)s days") % {"n": m[1]}),
    (
        re.compile(r"adherence_(\d+)d_\d+pct"),
        lambda m: _("Adherence over %(n)s days") % {"n": m[1]},
    ),
    (
        re.compile(r"no_positive_(\d+)d"),
        lambda m: _("No positive urine test in %(n)s days") % {"n": m[1]},
    ),
    (
        re.compile(r"negative_in_(\d+)d"),
        lambda m: _("A negative urine test in %(n)s days") % {"n": m[1]},
    ),
    (re.compile(r"negative_run_\d+"), lambda m: _("Negative urine tests in a row")),
    (re.compile(r"confirm_\d+"), lambda m: _("To confirm")),
)


def check_label(name: str) -> str:
    if name == "day_of_treatment":
        return _("Day of treatment")
    if name == "police_record_check":
        return _("Police record check")
    if name == "lockbox_issued":
        return _("Lockbox issued")
    if name.startswith("consent_"):
        purpose = name.removeprefix("consent_")
        shown = dict(Purpose.choices).get(purpose) or purpose.replace("_", " ")
        return _("Consent: %(purpose)s") % {"purpose": shown}
    for pattern, label in _PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return label(match)
    return name.replace("_", " ").capitalize()
