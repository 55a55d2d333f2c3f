"""The agreed take-home standard as a document: its shape, the shipped profiles, validation.

A standard is data the health department and the police sign, not code. This module turns
the stored JSON document into `Rules` the engine reads, and refuses — with every reason —
a document that does not parse or contradicts itself (docs/takehome-standard.md). No database here.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

PROFILES = ("pingan", "us-2024", "us-2001")

ADMINISTRATIVE = (
    "police_record_check",
    "lockbox_issued",
    "consent_police_record_check",
    "consent_sms",
)

US_2024_CONFIRM = [
    "no active substance use or other condition that makes take-home unsafe",
    "regular attendance for observed doses and counselling",
    "no serious behavioural problems at the centre",
    "no recent diversion",
    "take-home doses can be stored safely",
    "the benefit of take-home outweighs the risk of diversion",
]

US_2001_CONFIRM = [
    "absence of recent abuse of drugs (opioid or non-narcotic), including alcohol",
    "regularity of clinic attendance",
    "absence of serious behavioural problems at the clinic",
    "absence of known recent criminal activity, e.g. drug dealing",
    "stability of the home environment and social relationships",
    "length of time in comprehensive maintenance treatment",
    "assurance that take-home medication can be safely stored within the home",
    "the rehabilitative benefit outweighs the potential risk of diversion",
]


def _tier(days, from_day, window, minimum, positive_free, run=0, one_negative=False) -> dict:
    return {
        "days": days,
        "from_day": from_day,
        "adherence_window": window,
        "adherence_min": minimum,
        "positive_free_days": positive_free,
        "min_negative_run": run,
        "needs_one_negative_in_window": one_negative,
    }


def _us_tiers(schedule: list[tuple[int, int]]) -> list[dict]:
    return [_tier(days, start, 30, 80, 30) for start, days in schedule]


DEFAULT_DOCUMENTS: dict[str, dict] = {
    "pingan": {
        "tiers": [
            _tier(2, 90, 30, 90, 30, one_negative=True),
            _tier(4, 180, 60, 95, 90, run=3),
            _tier(6, 365, 90, 95, 180, run=6),
        ],
        "administrative": list(ADMINISTRATIVE),
        "record_check_valid_days": 365,
        "to_confirm": [],
        "closed_days": {
            "max_days": 3,
            "weekdays": [],
            "public_holidays": True,
            "needs_police_check": False,
        },
    },
    "us-2024": {
        "tiers": _us_tiers([(0, 7), (15, 14), (31, 28)]),
        "administrative": [],
        "record_check_valid_days": 365,
        "to_confirm": US_2024_CONFIRM,
        "closed_days": {
            "max_days": 3,
            "weekdays": [],
            "public_holidays": True,
            "needs_police_check": False,
        },
    },
    "us-2001": {
        "tiers": _us_tiers([(0, 1), (90, 2), (180, 3), (270, 6), (365, 14), (730, 31)]),
        "administrative": [],
        "record_check_valid_days": 365,
        "to_confirm": US_2001_CONFIRM,
        "closed_days": {
            "max_days": 1,
            "weekdays": [],
            "public_holidays": True,
            "needs_police_check": False,
        },
    },
}


def default_document(profile: str) -> dict:
    return copy.deepcopy(DEFAULT_DOCUMENTS[profile])


@dataclass(frozen=True)
class Tier:
    days: int
    from_day: int
    adherence_window: int
    adherence_min: int  # percent
    positive_free_days: int  # 0: not checked
    min_negative_run: int  # 0: not checked
    needs_one_negative_in_window: bool  # at least one negative in the positive-free window


@dataclass(frozen=True)
class ClosedDays:
    max_days: int
    weekdays: tuple[int, ...]  # Monday = 0 … Sunday = 6
    public_holidays: bool
    needs_police_check: bool


@dataclass(frozen=True)
class Rules:
    profile: str
    tiers: tuple[Tier, ...]  # ascending by days
    administrative: tuple[str, ...]
    record_check_valid_days: int
    to_confirm: tuple[str, ...]
    closed_days: ClosedDays

    @property
    def dose_windows(self) -> tuple[int, ...]:
        """The adherence windows of the tiers: the engines count dose days per window."""
        return tuple(sorted({t.adherence_window for t in self.tiers}))

    @property
    def negative_windows(self) -> tuple[int, ...]:
        """The windows in which a tier needs a negative sample: counted per window."""
        return tuple(
            sorted({t.positive_free_days for t in self.tiers if t.needs_one_negative_in_window})
        )


class StandardInvalid(ValueError):
    """The document was refused; `reasons` lists every problem, already translated."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _int(value, name: str, low: int, high: int, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(_("%(name)s must be a whole number.") % {"name": name})
        return low
    if not low <= value <= high:
        problems.append(
            _("%(name)s must be between %(low)d and %(high)d.")
            % {"name": name, "low": low, "high": high}
        )
    return value


def _bool(value, name: str, problems: list[str]) -> bool:
    if not isinstance(value, bool):
        problems.append(_("%(name)s must be true or false.") % {"name": name})
        return False
    return value


TIER_KEYS = (
    "days",
    "from_day",
    "adherence_window",
    "adherence_min",
    "positive_free_days",
    "min_negative_run",
    "needs_one_negative_in_window",
)

# The most days at home any standard may allow: the database's bound on a request
# (`takehome_request_days_range`). The editor's form reads its limits from here.
MAX_DAYS_AT_HOME = 90
TIER_LIMITS: dict[str, tuple[int, int]] = {
    "days": (1, MAX_DAYS_AT_HOME),
    "from_day": (0, 3650),
    "adherence_window": (1, 730),
    "adherence_min": (0, 100),
    "positive_free_days": (0, 730),
    "min_negative_run": (0, 100),
}
RECORD_CHECK_VALID_DAYS = (1, 3650)
CLOSED_MAX_DAYS = (0, 14)


def _parse_tier(raw, index: int, problems: list[str]) -> Tier | None:
    label = _("tier %(n)d") % {"n": index + 1}
    if not isinstance(raw, dict):
        problems.append(_("%(tier)s must be an object.") % {"tier": label})
        return None
    missing = [k for k in TIER_KEYS if k not in raw]
    unknown = sorted(set(raw) - set(TIER_KEYS))
    if missing:
        problems.append(
            _("%(tier)s lacks: %(keys)s.") % {"tier": label, "keys": ", ".join(missing)}
        )
        return None
    if unknown:
        problems.append(
            _("%(tier)s has unknown keys: %(keys)s.") % {"tier": label, "keys": ", ".join(unknown)}
        )

    def field(key: str) -> int:
        return _int(raw[key], f"{label}: {key}", *TIER_LIMITS[key], problems)

    return Tier(
        days=field("days"),
        from_day=field("from_day"),
        adherence_window=field("adherence_window"),
        adherence_min=field("adherence_min"),
        positive_free_days=field("positive_free_days"),
        min_negative_run=field("min_negative_run"),
        needs_one_negative_in_window=_bool(
            raw["needs_one_negative_in_window"], f"{label}: needs_one_negative_in_window", problems
        ),
    )


def _contradictions(tiers: list[Tier], problems: list[str]) -> None:
    """A tier allowing more days must come later and ask at least as much as one allowing
    fewer: otherwise a client could earn 4 days on terms looser than 2 days."""
    for lower, higher in zip(tiers, tiers[1:], strict=False):
        names = {"more": higher.days, "fewer": lower.days}
        if higher.days == lower.days:
            problems.append(_("Two tiers allow %(more)d days.") % names)
            continue
        if higher.from_day <= lower.from_day:
            problems.append(
                _(
                    "The %(more)d-day tier must start later in treatment than the %(fewer)d-day tier."
                )
                % names
            )
        if higher.adherence_min < lower.adherence_min:
            problems.append(
                _("The %(more)d-day tier asks less adherence than the %(fewer)d-day tier.") % names
            )
        if higher.positive_free_days < lower.positive_free_days:
            problems.append(
                _(
                    "The %(more)d-day tier asks a shorter time without a positive sample than the"
                    " %(fewer)d-day tier."
                )
                % names
            )
        if higher.min_negative_run < lower.min_negative_run:
            problems.append(
                _("The %(more)d-day tier asks a shorter negative run than the %(fewer)d-day tier.")
                % names
            )
        if lower.needs_one_negative_in_window and not (
            higher.needs_one_negative_in_window or higher.min_negative_run >= 1
        ):
            problems.append(
                _("The %(more)d-day tier drops the negative sample the %(fewer)d-day tier needs.")
                % names
            )


def parse(profile: str, document) -> Rules:
    """The document (a dict or JSON text) as `Rules`, or `StandardInvalid` with every reason."""
    problems: list[str] = []
    if profile not in PROFILES:
        raise StandardInvalid([_("Unknown profile: %(p)s.") % {"p": profile}])
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise StandardInvalid(
                [_("The document is not valid JSON: %(e)s") % {"e": error}]
            ) from None
    if not isinstance(document, dict):
        raise StandardInvalid([_("The document must be a JSON object.")])
    raw_tiers = document.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise StandardInvalid([_("The document needs a non-empty list of tiers.")])
    tiers = [t for i, r in enumerate(raw_tiers) if (t := _parse_tier(r, i, problems))]
    tiers.sort(key=lambda t: (t.days, t.from_day))
    if not problems:
        _contradictions(tiers, problems)

    administrative = document.get("administrative", [])
    if not isinstance(administrative, list) or any(a not in ADMINISTRATIVE for a in administrative):
        problems.append(
            _("administrative may only list: %(names)s.") % {"names": ", ".join(ADMINISTRATIVE)}
        )
        administrative = []
    to_confirm = document.get("to_confirm", [])
    if not isinstance(to_confirm, list) or not all(isinstance(c, str) and c for c in to_confirm):
        problems.append(_("to_confirm must be a list of texts."))
        to_confirm = []
    valid_days = _int(
        document.get("record_check_valid_days", 365),
        "record_check_valid_days",
        *RECORD_CHECK_VALID_DAYS,
        problems,
    )
    closed = document.get("closed_days", {})
    if not isinstance(closed, dict):
        problems.append(_("closed_days must be an object."))
        closed = {}
    weekdays = closed.get("weekdays", [])
    if not isinstance(weekdays, list) or any(
        isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 6 for w in weekdays
    ):
        problems.append(_("closed_days: weekdays must be numbers from 0 (Monday) to 6 (Sunday)."))
        weekdays = []
    max_days = _int(closed.get("max_days", 0), "closed_days: max_days", *CLOSED_MAX_DAYS, problems)
    if tiers and max_days >= max(t.days for t in tiers):
        problems.append(_("The closed-day allowance must be smaller than the regular allowance."))
    closed_days = ClosedDays(
        max_days=max_days,
        weekdays=tuple(sorted(set(weekdays))),
        public_holidays=_bool(
            closed.get("public_holidays", True), "closed_days: public_holidays", problems
        ),
        needs_police_check=_bool(
            closed.get("needs_police_check", False), "closed_days: needs_police_check", problems
        ),
    )
    if problems:
        raise StandardInvalid(problems)
    return Rules(
        profile=profile,
        tiers=tuple(tiers),
        administrative=tuple(administrative),
        record_check_valid_days=valid_days,
        to_confirm=tuple(to_confirm),
        closed_days=closed_days,
    )


def profile_rules(profile: str) -> Rules:
    """The shipped profile, as docs/takehome-standard.md defines it."""
    return parse(profile, default_document(profile))
