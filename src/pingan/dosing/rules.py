"""The dosing rules as pure functions: facts in, a decision with its reasons out.

No database here, so every boundary (2 or 3 missed days, 4 or 5, the last taper step) is
tested directly, and the queue, the client page and `actions.record_dose` all ask the same
question the same way. See docs/dosing-rules.md for why each rule exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

# Hold kinds, spelled as in models.HoldKind (kept as strings so this module needs no models).
MISSED_DOSE_REVIEW = "missed_dose_review"
REINDUCTION = "reinduction"


@dataclass(frozen=True)
class Taper:
    """Reduce from `from_mg` by `step_mg` every `every_days` days from `start_on`, never
    below `to_mg`."""

    start_on: date
    from_mg: int
    to_mg: int
    step_mg: int
    every_days: int


@dataclass(frozen=True)
class ScheduledDose:
    mg: int
    why: str


def scheduled_dose(prescription_mg: int, taper: Taper | None, day: date) -> ScheduledDose:
    """The dose due on `day`.

    A taper starts at `from_mg` on its first day and steps down after every `every_days`
    days; it stops at `to_mg` (the floor) and stays there. Before the taper starts, the
    prescription applies."""
    if taper is None or day < taper.start_on:
        return ScheduledDose(
            prescription_mg, _("prescribed dose %(mg)d mg") % {"mg": prescription_mg}
        )
    steps = (day - taper.start_on).days // taper.every_days
    mg = max(taper.to_mg, taper.from_mg - steps * taper.step_mg)
    if mg == taper.to_mg:
        why = _("taper: reached %(mg)d mg, the end of the plan") % {"mg": mg}
    else:
        why = _("taper: day %(day)d, %(steps)d step(s) of %(step)d mg down from %(from)d mg") % {
            "day": (day - taper.start_on).days + 1,
            "steps": steps,
            "step": taper.step_mg,
            "from": taper.from_mg,
        }
    return ScheduledDose(mg, why)


def missed_days(
    last_dose_date: date | None,
    today: date,
    covered_days: frozenset[date] | set[date] = frozenset(),
    counting_from: date | None = None,
) -> int:
    """Consecutive days before `today` without a dose.

    A day covered by a take-home bottle or a guest dose at another centre counts as dosed.
    Days before `counting_from` (the enrolment, or the day a clinician last reviewed missed
    doses) are never counted as missed: a client enrolled yesterday has missed at most one
    day, and a reviewed client starts afresh."""
    dosed = [d for d in covered_days if d < today]
    if last_dose_date is not None and last_dose_date < today:
        dosed.append(last_dose_date)
    floor = counting_from - timedelta(days=1) if counting_from is not None else None
    latest = max(dosed) if dosed else None
    if floor is not None and (latest is None or latest < floor):
        latest = floor
    if latest is None:
        return 0
    return max(0, (today - latest).days - 1)


@dataclass(frozen=True)
class Thresholds:
    """From `Centre`: missed days that require a clinician review, and re-induction."""

    review_after_missed_days: int = 3
    reinduction_after_missed_days: int = 5
    # The induction dose a re-induction is capped at (`limits.DoseLimits.first_dose_max_mg`).
    induction_cap_mg: int = 30


@dataclass(frozen=True)
class DoseToday:
    kind: str  # clinic, takehome or guest
    given_at: datetime | None
    by: str


@dataclass(frozen=True)
class OpenHold:
    kind: str
    label: str
    reason: str


@dataclass(frozen=True)
class SlipToday:
    """The guest slip covering the day: where the client is a guest, until when, and the
    most the host may give."""

    host_id: int
    host_name: str
    valid_to: date
    dose_mg: int


@dataclass(frozen=True)
class VisitToday:
    """A guest from a centre outside the installation (`models.VisitingGuest`): the slip
    that lets this centre dose them on the day, or `first_day` None when none does."""

    home_centre: str
    first_day: date | None = None
    last_day: date | None = None
    dose_mg: int = 0


@dataclass(frozen=True)
class ClientFacts:
    """Everything the decision needs about one client on one day."""

    code: str
    in_treatment: bool
    prescription_mg: int | None = None
    prescription_start_on: date | None = None
    taper: Taper | None = None
    dose_today: DoseToday | None = None
    open_holds: tuple[OpenHold, ...] = ()
    last_dose_date: date | None = None
    covered_days: frozenset[date] = frozenset()
    counting_from: date | None = None
    # For the re-induction cap, which a cleared review does not lift: the start of the
    # episode (the absence is counted from it, never from a review) and the start of the
    # latest induction prescription.
    enrolled_on: date | None = None
    induction_on: date | None = None
    last_dose_capped: bool = False  # the last dose was given under the cap: it persists
    # Shown beside the dose on the queue row: the override the prescription in force was
    # written with (its reason) and the client's current medicines that interact.
    override_reason: str = ""
    split_first_mg: int | None = None
    split_second_home: bool = False
    # The client's own centre and the guest slip covering the day, if any.
    home_centre_id: int | None = None
    slip: SlipToday | None = None
    # A guest from outside the installation, dosed here only within a signed slip's terms.
    visit: VisitToday | None = None


@dataclass(frozen=True)
class Block:
    code: str
    message: str


@dataclass
class Decision:
    can_dose: bool
    mg: int | None
    reasons: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    missed: int = 0
    hold_to_open: str | None = None  # a hold kind the caller must open now
    capped_from: int | None = None  # the scheduled dose the re-induction cap lowered


def already_dosed_block(dose: DoseToday) -> Block:
    if dose.kind == "takehome":
        return Block("already_dosed", _("Today is covered by a take-home bottle."))
    if dose.kind == "guest":
        return Block("already_dosed", _("Today's dose was given at another centre."))
    at = timezone.localtime(dose.given_at).strftime("%H:%M") if dose.given_at else "?"
    return Block(
        "already_dosed",
        _("Already dosed today at %(time)s by %(by)s.") % {"time": at, "by": dose.by or "?"},
    )


def guest_block(facts: ClientFacts, at_centre: int | None, mg: int | None) -> Block | None:
    """Why the centre `at_centre` may not dose this client today because of guest dosing,
    or None. `at_centre` None means the client's own centre.

    On a guest slip's days the home centre does not dose (the client is away, and a dose at
    both would be two in a day); another centre doses only with a slip naming it for the
    day, and never above the slip's dose (the home centre vouched for that amount)."""
    slip = facts.slip
    at_home = at_centre is None or at_centre == facts.home_centre_id
    if at_home:
        if slip is None:
            return None
        return Block(
            "guest_elsewhere",
            _("Guest at %(host)s until %(day)s: the home centre does not dose on the slip's days.")
            % {"host": slip.host_name, "day": slip.valid_to.isoformat()},
        )
    if slip is None or slip.host_id != at_centre:
        return Block(
            "no_guest_slip",
            _("A client of another centre: no guest slip for this centre today."),
        )
    if mg is not None and mg > slip.dose_mg:
        return Block(
            "above_slip",
            _(
                "Today's dose (%(mg)d mg) is above the guest slip's %(slip)d mg: the home "
                "centre must issue a new slip."
            )
            % {"mg": mg, "slip": slip.dose_mg},
        )
    return None


def visit_block(visit: VisitToday | None, mg: int | None) -> Block | None:
    """Why a guest from outside the installation may not be dosed today, or None: no
    slip of theirs covers the day, or the dose is above the slip's (the home centre vouched
    for that amount, and a dose above it needs a new slip)."""
    if visit is None:
        return None
    if visit.first_day is None:
        return Block(
            "no_visit_slip",
            _("A guest from %(home)s, outside the installation: no guest slip covers today.")
            % {"home": visit.home_centre},
        )
    if mg is not None and mg > visit.dose_mg:
        return Block(
            "above_slip",
            _(
                "Today's dose (%(mg)d mg) is above the guest slip's %(slip)d mg: the home "
                "centre must issue a new slip."
            )
            % {"mg": mg, "slip": visit.dose_mg},
        )
    return None


def dosing_decision(
    facts: ClientFacts, today: date, thresholds: Thresholds, at_centre: int | None = None
) -> Decision:
    """May this client be dosed today, how much, and if not, every reason why not.

    `at_centre` is the centre asking (None: the client's own); see `guest_block`. All
    blocks are listed (not just the first) so the screen can show the nurse the whole
    picture. Money is not an input: an unpaid balance can never stop a dose."""
    blocks: list[Block] = []
    reasons: list[str] = []
    hold_to_open: str | None = None
    mg: int | None = None

    if facts.dose_today is not None:
        blocks.append(already_dosed_block(facts.dose_today))
    if not facts.in_treatment:
        blocks.append(Block("not_in_treatment", _("Not in treatment: no open episode.")))
    if facts.prescription_mg is None:
        blocks.append(Block("no_prescription", _("No active prescription.")))
    elif facts.prescription_start_on and facts.prescription_start_on > today:
        blocks.append(
            Block(
                "prescription_not_started",
                _("The prescription starts on %(day)s.") % {"day": facts.prescription_start_on},
            )
        )
    else:
        scheduled = scheduled_dose(facts.prescription_mg, facts.taper, today)
        reasons.append(scheduled.why)
        mg = scheduled.mg
        if mg < 1:
            blocks.append(Block("taper_complete", _("The taper is complete: no dose is due.")))
            mg = None
    capped_from = None
    absence = reinduction_absence(facts, today, thresholds)
    if absence and mg is not None and mg > thresholds.induction_cap_mg:
        capped_from, mg = mg, thresholds.induction_cap_mg
        if absence > 0:
            why = _(
                "Lowered from %(from)d to %(mg)d mg: %(n)d days missed since the last dose, so "
                "induction re-starts; the cap stays until a clinician prescribes a new "
                "induction."
            ) % {"from": capped_from, "mg": mg, "n": absence}
        else:
            why = _(
                "Lowered from %(from)d to %(mg)d mg: re-induction after missed days; the cap "
                "stays until a clinician prescribes a new induction."
            ) % {"from": capped_from, "mg": mg}
        reasons.append(why)

    guest = guest_block(facts, at_centre, mg) or visit_block(facts.visit, mg)
    if guest is not None:
        blocks.append(guest)

    for hold in facts.open_holds:
        blocks.append(
            Block(
                "hold",
                _("On hold: %(kind)s — %(reason)s") % {"kind": hold.label, "reason": hold.reason},
            )
        )

    missed = missed_days(facts.last_dose_date, today, facts.covered_days, facts.counting_from)
    open_kinds = {h.kind for h in facts.open_holds}
    if missed >= thresholds.reinduction_after_missed_days:
        if REINDUCTION not in open_kinds:
            hold_to_open = REINDUCTION
            blocks.append(
                Block(
                    "reinduction",
                    _(
                        "%(n)d days missed (%(limit)d or more): re-start induction; a clinician "
                        "must write a new induction prescription."
                    )
                    % {"n": missed, "limit": thresholds.reinduction_after_missed_days},
                )
            )
    elif missed >= thresholds.review_after_missed_days:
        if MISSED_DOSE_REVIEW not in open_kinds:
            hold_to_open = MISSED_DOSE_REVIEW
            blocks.append(
                Block(
                    "missed_review",
                    _(
                        "%(n)d days missed (%(limit)d or more): a clinician must review the dose "
                        "first."
                    )
                    % {"n": missed, "limit": thresholds.review_after_missed_days},
                )
            )
    elif missed:
        reasons.append(_("%(n)d day(s) missed") % {"n": missed})

    return Decision(
        can_dose=not blocks and mg is not None,
        mg=mg,
        reasons=reasons,
        blocks=blocks,
        missed=missed,
        hold_to_open=hold_to_open,
        capped_from=capped_from,
    )


def reinduction_absence(facts: ClientFacts, today: date, thresholds: Thresholds) -> int:
    """The missed days that cap the dose at the induction dose, or 0 when it is not capped
    (-1 when the cap continues from an earlier capped dose: the absence is over, the cap is
    not).

    Counted from the last dose (or the enrolment), never from a cleared review: a clinician
    clearing a hold vouches for the client today, not for the tolerance lost over the
    absence. Once a dose was given under the cap, the next ones are capped too. Only an
    induction prescription starting after the last dose before the absence (or on or after
    the last capped dose) lifts the cap."""
    last, induction = facts.last_dose_date, facts.induction_on
    if facts.last_dose_capped:
        if induction is not None and last is not None and induction >= last:
            return 0
        return -1
    absence = missed_days(last, today, facts.covered_days, facts.enrolled_on)
    if absence < thresholds.reinduction_after_missed_days:
        return 0
    if induction is not None and (last is None or induction > last):
        return 0
    return absence


def split_parts(facts: ClientFacts, decision: Decision) -> tuple[int, int] | None:
    """The two parts of today's dose when the prescription splits it, else None.

    A split applies to the prescribed dose as written: under a taper step or the
    re-induction cap the day's dose is another amount, given whole."""
    first = facts.split_first_mg
    if first is None or decision.mg is None or decision.capped_from is not None:
        return None
    if decision.mg != facts.prescription_mg or not 0 < first < decision.mg:
        return None
    return first, decision.mg - first
