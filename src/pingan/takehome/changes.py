"""What a new version of the take-home standard changes, in words: "was → now".

The CDC officer and the police officer sign a change, so the screens show the change
itself, per tier and per criterion, in the reader's language, beside the whole new version
(describe.py). Pure functions over two stored documents that `standard.parse` accepted.
Tiers are matched by the days they allow; tiers left over on both sides are paired in
order (a 4-day tier that now allows 5 days is one tier changed, not one removed and one
added), and what remains was added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .describe import CONFIRM_TEXTS, WEEKDAYS, _tier_row
from .models import Profile

# The administrative checks a standard can ask for, as the staff know them.
ADMINISTRATIVE_LABELS = {
    "police_record_check": gettext_lazy("a passed police record check"),
    "lockbox_issued": gettext_lazy("a lockbox issued to the client"),
    "consent_police_record_check": gettext_lazy("the client's consent to the police record check"),
    "consent_sms": gettext_lazy("the client's consent to text messages"),
}

NOTHING = "—"


@dataclass(frozen=True)
class Change:
    """One thing that differs: what it belongs to (a tier, the closed days…), which
    criterion, and its value before and after, all as words."""

    subject: str
    what: str
    was: str
    now: str


def _days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def _not_checked_or(n: int, shown: str) -> str:
    return shown if n else _("not checked")


def _tier_values(tier: dict) -> list[tuple[str, str]]:
    """(criterion, value) of one tier, in the order the editor shows them."""
    free, run = tier["positive_free_days"], tier["min_negative_run"]
    return [
        (_("days at home"), _days(tier["days"])),
        (_("from day of treatment"), _("day %(n)d") % {"n": tier["from_day"]}),
        (_("attendance counted over"), _days(tier["adherence_window"])),
        (_("attendance at least"), f"{tier['adherence_min']}%"),
        (_("no positive urine sample in the last"), _not_checked_or(free, _days(free))),
        (
            _("at least one negative sample in that time"),
            _("required") if tier["needs_one_negative_in_window"] and free else _("not required"),
        ),
        (
            _("negative run at least"),
            _not_checked_or(run, ngettext("%(n)d sample", "%(n)d samples", run) % {"n": run}),
        ),
    ]


def _tier_name(days: int) -> str:
    return _("The %(days)d-day tier") % {"days": days}


def _tier_summary(tier: dict) -> str:
    return _("; ").join(cell for cell in _tier_row(tier) if cell != NOTHING)


def _pair_tiers(before: list[dict], after: list[dict]):
    """(was, now) pairs; either side None for a tier added or removed."""
    by_days = {t["days"]: t for t in after}
    pairs, left_before = [], []
    for tier in before:
        match = by_days.pop(tier["days"], None)
        if match is None:
            left_before.append(tier)
        else:
            pairs.append((tier, match))
    left_after = [t for t in after if t["days"] in by_days]
    for was, now in zip(left_before, left_after, strict=False):
        pairs.append((was, now))
    pairs.extend((was, None) for was in left_before[len(left_after) :])
    pairs.extend((None, now) for now in left_after[len(left_before) :])
    return sorted(pairs, key=lambda p: (p[0] or p[1])["days"])


def _tiers(before: dict, after: dict) -> list[Change]:
    def ordered(document: dict) -> list[dict]:
        return sorted(document.get("tiers", []), key=lambda t: (t["days"], t["from_day"]))

    changes = []
    for was, now in _pair_tiers(ordered(before), ordered(after)):
        if now is None:
            changes.append(
                Change(_tier_name(was["days"]), _("tier removed"), _tier_summary(was), NOTHING)
            )
        elif was is None:
            changes.append(
                Change(_tier_name(now["days"]), _("new tier"), NOTHING, _tier_summary(now))
            )
        else:
            subject = _tier_name(was["days"])
            for (what, old), (_what, new) in zip(_tier_values(was), _tier_values(now), strict=True):
                if old != new:
                    changes.append(Change(subject, what, old, new))
    return changes


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _weekdays(days: list[int]) -> str:
    return _(", ").join(str(WEEKDAYS[d]) for d in sorted(days)) or _("none")


def _closed_days(before: dict, after: dict) -> list[Change]:
    subject = _("Closed days")
    was, now = before.get("closed_days", {}), after.get("closed_days", {})
    rows = [
        (_("days at home at most"), "max_days", 0, _days),
        (_("weekly closing days"), "weekdays", [], _weekdays),
        (_("public holidays count as closed days"), "public_holidays", True, _yes_no),
        (_("needs a passed police record check"), "needs_police_check", False, _yes_no),
    ]
    return [
        Change(subject, what, shown(was.get(key, default)), shown(now.get(key, default)))
        for what, key, default, shown in rows
        if was.get(key, default) != now.get(key, default)
    ]


def _listed(subject: str, was: list, now: list, label) -> list[Change]:
    """Items added to or dropped from a list (the administrative checks, the confirmations)."""
    changes = [
        Change(subject, label(item), _("not asked"), _("asked")) for item in now if item not in was
    ]
    changes.extend(
        Change(subject, label(item), _("asked"), _("not asked")) for item in was if item not in now
    )
    return changes


def changes(before_profile: str, before: dict, after_profile: str, after: dict) -> list[Change]:
    """Every difference between two valid documents, tiers first, in the reader's language.
    Empty when the new version says the same as the old one."""
    found = []
    if before_profile != after_profile:
        labels = dict(Profile.choices)
        found.append(
            Change(
                _("Profile"),
                _("profile"),
                str(labels.get(before_profile, before_profile)),
                str(labels.get(after_profile, after_profile)),
            )
        )
    found.extend(_tiers(before, after))
    found.extend(_closed_days(before, after))
    found.extend(
        _listed(
            _("Administrative checks"),
            before.get("administrative", []),
            after.get("administrative", []),
            lambda name: str(ADMINISTRATIVE_LABELS.get(name, name)),
        )
    )
    valid_before = before.get("record_check_valid_days", 365)
    valid_after = after.get("record_check_valid_days", 365)
    if valid_before != valid_after:
        found.append(
            Change(
                _("Administrative checks"),
                _("a police record check counts for"),
                _days(valid_before),
                _days(valid_after),
            )
        )
    found.extend(
        _listed(
            _("The clinician confirms"),
            before.get("to_confirm", []),
            after.get("to_confirm", []),
            lambda text: str(CONFIRM_TEXTS.get(text, text)),
        )
    )
    return found
