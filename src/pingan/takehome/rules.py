"""The eligibility engine: a pure function of a client's history and the standard in force.

Definitions (docs/takehome-standard.md): day of treatment = days since the latest enrolment
(day 0); a window "over the last N days" is D−N … D−1, cut at the enrolment day, and an
empty window passes; adherence = days with a dose (any kind) ÷ days in the window; a urine
sample is opioid-positive or negative as `labs.rules.opioid_positive` decides (`opiates` or
`morphine` positive; a sample with neither result does not count); the negative run counts
the negative samples back from the latest one to the latest positive. Samples carry a day,
not a time, so a negative collected the same day as a positive is not in the run.

The days allowed are those of the highest tier whose start day is reached and whose
data-derived criteria all pass; 0 only when no tier passes. The tiers are tried from the
highest reached down, and the evidence names each one tried and why it failed: a lapse steps
the client down to what the record still earns, it does not wipe it out. For a fixed record
(the same doses and samples in every window the tiers read), the days allowed therefore
never fall as the day of treatment rises.

The engine has two halves so the set-based engines share the second one: `aggregate`
counts what a history holds for each window, `decide` turns those counts into a Decision.
The set-based engines (`nightly` in the database, `duck` over Parquet) compute the same counts
and decide the days allowed in SQL (`listsql`, held to `decide` by the property test).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import get_language, gettext, gettext_noop

from pingan.labs.rules import opioid_outcome

from .standard import Rules, Tier

_TRANSLATED: dict[tuple[str | None, str], str] = {}


def translator(language: str | None = None) -> Callable[[str], str]:
    """gettext for one language, remembered: the nightly list asks for the same few texts
    hundreds of thousands of times, and both Django's catalogue lookup and finding the
    active language (a context-local read) cost more than deciding. A list asks for it once
    and passes it to `decide`, which hands it to the helpers (where it is called `_`)."""
    language = language or get_language()

    def translate(message: str) -> str:
        key = (language, message)
        found = _TRANSLATED.get(key)
        if found is None:
            found = _TRANSLATED[key] = gettext(message)
        return found

    return translate


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: for the clinician to confirm, not derived from the record
    evidence: str
    # What the check is about: "day" (the day of treatment), "tier" (one tier tried, its
    # evidence naming what failed), "criterion" (one data-derived criterion of a tier),
    # "administrative" or "confirm". Screens use it to say why in one line per cause; the
    # JSON output leaves it out, the name tells a reader as much.
    kind: str = "criterion"

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "evidence": self.evidence}


@dataclass(frozen=True)
class Decision:
    client: str
    allowed_days: int
    ready: bool
    checks: tuple[Check, ...] = ()
    day_of_treatment: int = 0

    def failed(self, *kinds: str) -> list[str]:
        """The evidence of the failed checks of those kinds, in order."""
        return [c.evidence for c in self.checks if c.passed is False and c.kind in kinds]

    @property
    def not_met(self) -> list[str]:
        """Why the record allows no more than it does and why it is not ready, one line per
        cause: each tier tried and failed with its reasons (or the day of treatment, before
        the first tier), then each administrative check not met. A failed criterion is
        already named by its tier."""
        return self.failed("day", "tier", "administrative")

    def as_dict(self) -> dict:
        return {
            "client": self.client,
            "allowed_days": self.allowed_days,
            "ready": self.ready,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class AdminFacts:
    """What the administrative checks read: the latest police record check (day, passed),
    whether a lockbox is issued, the live consents, whether take-home is suspended — all as
    of the evaluation day."""

    record_check: tuple[date, bool] | None = None
    lockbox: bool = False
    consents: frozenset[str] = frozenset()
    # A clinician's suspension standing that day: never ready, whatever the record earns.
    suspended: bool = False


@dataclass(frozen=True)
class History:
    """One client's record up to the evaluation day (later entries are ignored anyway)."""

    code: str
    enrolled_on: date  # the latest enrolment on or before the evaluation day
    dose_days: frozenset[date] = frozenset()
    samples: tuple[tuple[date, bool], ...] = ()  # (collection day, opioid-positive)
    admin: AdminFacts = field(default_factory=AdminFacts)


@dataclass(frozen=True)
class Aggregates:
    """The counts `decide` needs; the set-based engines produce exactly these."""

    code: str
    enrolled_on: date
    doses_in: dict[int, int]  # window N -> days with a dose in D−N … D−1 (cut at enrolment)
    negatives_in: dict[int, int]  # window N -> negative samples in that window
    last_positive: date | None  # latest opioid-positive sample since enrolment, before D
    negative_run: int
    admin: AdminFacts = field(default_factory=AdminFacts)


def window_start(day: date, enrolled_on: date, n: int) -> date:
    return max(day - timedelta(days=n), enrolled_on)


def opioid_samples(results: list[tuple]) -> tuple[tuple[date, bool], ...]:
    """(day, opioid-positive) per sample, in day order, from (sample, day, analyte, result)
    rows, each sample judged as `labs.rules.opioid_positive` does; a sample without an
    opioid result is left out."""
    found: dict = {}
    for sample, day, analyte, result in results:
        found.setdefault(sample, (day, {}))[1][analyte] = result
    judged = ((day, opioid_outcome(analytes)) for day, analytes in found.values())
    return tuple(sorted((day, positive) for day, positive in judged if positive is not None))


def aggregate(history: History, rules: Rules, day: date) -> Aggregates:
    enrolled = history.enrolled_on
    doses = sorted(d for d in history.dose_days if enrolled <= d < day)
    samples = [(d, pos) for d, pos in history.samples if enrolled <= d < day]
    doses_in = {
        n: len(doses) - bisect.bisect_left(doses, window_start(day, enrolled, n))
        for n in rules.dose_windows
    }
    negatives_in = {
        n: sum(1 for d, pos in samples if not pos and d >= window_start(day, enrolled, n))
        for n in rules.negative_windows
    }
    positives = [d for d, pos in samples if pos]
    last_positive = positives[-1] if positives else None
    run = sum(1 for d, pos in samples if not pos and (last_positive is None or d > last_positive))
    return Aggregates(
        code=history.code,
        enrolled_on=enrolled,
        doses_in=doses_in,
        negatives_in=negatives_in,
        last_positive=last_positive,
        negative_run=run,
        admin=history.admin,
    )


def _criteria(agg: Aggregates, tier: Tier, day: date, _: Callable[[str], str]) -> list[Check]:
    checks: list[Check] = []
    dot = (day - agg.enrolled_on).days
    w = tier.adherence_window
    days = min(w, dot)
    dosed = agg.doses_in.get(w, 0)
    passed = days == 0 or dosed * 100 >= tier.adherence_min * days
    facts = {"dosed": dosed, "days": days, "min": tier.adherence_min, "w": w}
    if days == 0:
        evidence = _("adherence over %(w)d days: no days yet, passes") % facts
    elif passed:
        evidence = _("adherence %(dosed)d/%(days)d days ≥ %(min)d%%") % facts
    else:
        evidence = _("adherence %(dosed)d/%(days)d days < %(min)d%%") % facts
    checks.append(Check(f"adherence_{w}d_{tier.adherence_min}pct", passed, evidence))
    n = tier.positive_free_days
    if n:
        start = window_start(day, agg.enrolled_on, n)
        last = agg.last_positive
        clean = last is None or last < start
        if clean:
            evidence = _("no positive sample in the last %(n)d days") % {"n": n}
        else:
            evidence = _("positive sample on %(day)s, %(ago)d days ago") % {
                "day": last.isoformat(),
                "ago": (day - last).days,
            }
        checks.append(Check(f"no_positive_{n}d", clean, evidence))
        if tier.needs_one_negative_in_window:
            negatives = agg.negatives_in.get(n, 0)
            empty = start >= day
            ok = empty or negatives >= 1
            evidence = _("%(count)d negative samples in the last %(n)d days") % {
                "count": negatives,
                "n": n,
            }
            checks.append(Check(f"negative_in_{n}d", ok, evidence))
    if tier.min_negative_run:
        run, need = agg.negative_run, tier.min_negative_run
        sign = "≥" if run >= need else "<"
        evidence = _("negative run %(run)d %(sign)s %(need)d") % {
            "run": run,
            "sign": sign,
            "need": need,
        }
        checks.append(Check(f"negative_run_{need}", run >= need, evidence))
    return checks


# The consents the standard can require, named as the staff know them (marked for
# translation here, translated by the list's translator).
CONSENT_TEXTS = {
    "police_record_check": (
        gettext_noop("consent to the police record check given"),
        gettext_noop("no consent to the police record check"),
    ),
    "sms": (
        gettext_noop("consent to text messages given"),
        gettext_noop("no consent to text messages"),
    ),
}


def _administrative(
    agg: Aggregates, rules: Rules, day: date, _: Callable[[str], str]
) -> list[Check]:
    admin, checks = agg.admin, []
    for name in rules.administrative:
        if name == "police_record_check":
            rc = admin.record_check
            if rc is None:
                checks.append(Check(name, False, _("no police record check yet"), "administrative"))
                continue
            on, passed = rc
            age = (day - on).days
            if not passed:
                evidence = _("record check on %(day)s did not pass") % {"day": on.isoformat()}
            elif age > rules.record_check_valid_days:
                evidence = _("record check on %(day)s is older than %(n)d days") % {
                    "day": on.isoformat(),
                    "n": rules.record_check_valid_days,
                }
            else:
                evidence = _("record check passed on %(day)s") % {"day": on.isoformat()}
            valid = passed and age <= rules.record_check_valid_days
            checks.append(Check(name, valid, evidence, "administrative"))
        elif name == "lockbox_issued":
            text = _("lockbox issued") if admin.lockbox else _("no lockbox issued")
            checks.append(Check(name, admin.lockbox, text, "administrative"))
        else:
            purpose = name.removeprefix("consent_")
            given = purpose in admin.consents
            texts = CONSENT_TEXTS.get(
                purpose, ("consent to %(purpose)s given", "no consent to %(purpose)s")
            )
            text = _(texts[0] if given else texts[1]) % {"purpose": purpose}
            checks.append(Check(name, given, text, "administrative"))
    if admin.suspended:
        # Shown only while it stands, so a decision without one reads as it always did.
        checks.append(
            Check("takehome_suspended", False, _("take-home is suspended"), "administrative")
        )
    return checks


def _tier_name(tier: Tier, _: Callable[[str], str]) -> str:
    return _("the %(days)d-day tier (from day %(from)d)") % {
        "days": tier.days,
        "from": tier.from_day,
    }


def _tiers_tried(
    agg: Aggregates, reached: list[Tier], day: date, _: Callable[[str], str]
) -> tuple[int, list[Check]]:
    """Try the reached tiers from the highest down; stop at the first whose criteria all
    pass. Returns its days (0 if none passes) and, for each tier tried, a check naming it
    and why it failed, followed by those of its criteria not already shown (tiers often
    share one: the US profiles judge every tier on the same two)."""
    checks: list[Check] = []
    shown: set[str] = set()
    for tier in reversed(reached):
        criteria = _criteria(agg, tier, day, _)
        passed = all(c.passed for c in criteria)
        if passed:
            evidence = _("%(tier)s: every criterion met") % {"tier": _tier_name(tier, _)}
        else:
            evidence = _("%(tier)s not met: %(why)s") % {
                "tier": _tier_name(tier, _),
                "why": _("; ").join(c.evidence for c in criteria if not c.passed),
            }
        checks.append(Check(f"tier_{tier.days}d", passed, evidence, "tier"))
        checks.extend(c for c in criteria if c.name not in shown)
        shown.update(c.name for c in criteria)
        if passed:
            return tier.days, checks
    return 0, checks


def decide(
    agg: Aggregates, rules: Rules, day: date, translate: Callable[[str], str] | None = None
) -> Decision:
    """Days allowed and every check with its evidence, from the counts of one client;
    `translate`: a `translator()` shared by a whole list (the active language otherwise).

    The days allowed are those of the highest tier reached whose criteria all pass: a
    lapse steps the client down to the tier the record still earns (see the module)."""
    _ = translate or translator()
    dot = (day - agg.enrolled_on).days
    reached = [t for t in rules.tiers if t.from_day <= dot]
    if reached:
        top = reached[-1]
        day_text = _("day %(dot)d of treatment: up to %(days)d days from day %(from)d") % {
            "dot": dot,
            "days": top.days,
            "from": top.from_day,
        }
        allowed, tried = _tiers_tried(agg, reached, day, _)
        checks = [Check("day_of_treatment", True, day_text, "day"), *tried]
    else:
        day_text = _("day %(dot)d of treatment: take-home from day %(from)d") % {
            "dot": dot,
            "from": rules.tiers[0].from_day,
        }
        # Before the first tier: its criteria show how the record stands for when it comes.
        allowed = 0
        checks = [Check("day_of_treatment", False, day_text, "day")]
        checks.extend(_criteria(agg, rules.tiers[0], day, _))
    admin = _administrative(agg, rules, day, _)
    checks.extend(admin)
    checks.extend(
        Check(f"confirm_{i + 1}", None, _("to confirm: %(text)s") % {"text": text}, "confirm")
        for i, text in enumerate(rules.to_confirm)
    )
    ready = allowed > 0 and all(c.passed for c in admin)
    return Decision(agg.code, allowed, ready, tuple(checks), dot)


def evaluate(history: History, rules: Rules, day: date) -> Decision:
    """The per-client engine: the decision for `history` on `day` under `rules`."""
    return decide(aggregate(history, rules, day), rules, day)
