"""State changes of the take-home app: the standard's versions and signatures, the approval
chain, dispensing and returns. One transaction each, each audited (docs/takehome-standard.md)."""

from __future__ import annotations

import json
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require, required_reason, role_of
from pingan.core.models import ClosedDay
from pingan.dosing import rules as dosing_rules
from pingan.dosing.actions import record_takehome_dose
from pingan.dosing.models import Prescription, TaperPlan
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Identity, Purpose

from . import closures, queries, suspensions
from .models import (
    BottleStatus,
    Incident,
    RecordCheck,
    RequestKind,
    RequestStatus,
    Standard,
    StandardSignature,
    Suspension,
    TakeHomeBottle,
    TakeHomeRequest,
)
from .standard import PROFILES, StandardInvalid, parse

# What the police officer sees for a record check: the identity a record check runs on, and
# only with the client's `police_record_check` consent. Nothing clinical, ever.
DISCLOSED_FIELDS = ("name", "national_id")


# The standard ------------------------------------------------------------------------------


def draft_standard(
    profile: str, document, by, note: str = "", effective_from: date | None = None
) -> Standard:
    """A new version; refused with every reason if the document is wrong. Not in force until
    both a CDC officer and a police officer have signed it, nor before `effective_from`."""
    require(by, "draft_standard")
    if profile not in PROFILES:
        raise Refusal(_("Unknown profile."))
    if effective_from is not None and effective_from < clock.today():
        raise Refusal(_("The day to take effect cannot be in the past."), code="past")
    try:
        parse(profile, document)
    except StandardInvalid as error:
        raise Refusal(" ".join(error.reasons), code="invalid_standard") from None
    if isinstance(document, str | bytes):
        document = json.loads(document)
    with acting(by), transaction.atomic():
        last = Standard.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        standard = Standard.objects.create(
            version=last + 1,
            profile=profile,
            document=document,
            drafted_by=by,
            drafted_at=clock.now(),
            note=(note or "")[:500],
            effective_from=effective_from,
            created_by=by,
        )
        record(
            "standard_draft",
            target=str(standard.external_id),
            version=standard.version,
            profile=profile,
            effective_from=effective_from,
        )
    return standard


def sign_standard(standard: Standard, by, seen: dict | None = None) -> StandardSignature:
    """Sign for one's own side (CDC or police). The second signature puts the version in
    force from that day, or from the later day the draft names. `seen`: what the signer
    was shown before confirming (the version compared with, the impact counts), audited."""
    require(by, "sign_standard")
    role = role_of(by)
    if role not in ("cdc", "police"):
        raise Refusal(_("Only a CDC officer or a police officer signs the standard."))
    with acting(by), transaction.atomic():
        standard = Standard.objects.select_for_update().get(pk=standard.pk)
        if standard.signatures.filter(role=role).exists():
            raise Refusal(_("This version already has a signature for your side."))
        newer = Standard.objects.filter(version__gt=standard.version, effective_on__isnull=False)
        if newer.exists():
            raise Refusal(_("A later version is already in force; sign that one instead."))
        now = clock.now()
        signature = StandardSignature.objects.create(
            standard=standard, signer=by, role=role, signed_at=now, created_by=by
        )
        if standard.signatures.count() == 2:
            standard.effective_on = max(
                timezone.localdate(now), standard.effective_from or date.min
            )
            standard.save(update_fields=["effective_on"])
        record(
            "standard_sign",
            target=str(standard.external_id),
            version=standard.version,
            role=role,
            in_force_from=standard.effective_on,
            seen=seen or {},
        )
    return signature


# The approval chain ----------------------------------------------------------------------


def request_takehome(
    client: Client, days: int, by, kind: str = RequestKind.REGULAR, reason: str = ""
) -> TakeHomeRequest:
    """Open a request, storing the eligibility decision of today as its snapshot."""
    require(by, "decide_takehome", "dispense_takehome", any_of=True)
    if kind not in RequestKind.values:
        raise Refusal(_("Unknown kind of request."))
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise Refusal(_("The number of days must be a whole number.")) from None
    suspensions.refuse_if_suspended(client)
    today = clock.today()
    standard = queries.standard_in_force(today)
    rules_ = queries.rules_of(standard)
    decision = queries.evaluate_client(client, today, rules_)
    if decision is None:
        raise Refusal(_("The client is not in treatment."))
    if kind == RequestKind.REGULAR:
        limit = decision.allowed_days
        if limit == 0:
            failed = "; ".join(decision.failed("day", "tier"))
            raise Refusal(
                _("The record allows no take-home days: %(why)s") % {"why": failed},
                code="not_eligible",
            )
        needs_check = "police_record_check" in rules_.administrative
    else:
        limit = rules_.closed_days.max_days
        if limit == 0:
            raise Refusal(_("The standard in force gives no closed-day allowance."))
        needs_check = rules_.closed_days.needs_police_check
    if not 1 <= days <= limit:
        raise Refusal(_("Between 1 and %(n)d days may be requested.") % {"n": limit})
    with acting(by), transaction.atomic():
        request = TakeHomeRequest.objects.create(
            client=client,
            kind=kind,
            days_requested=days,
            standard=standard,
            eligibility=decision.as_dict(),
            requested_on=today,
            reason=(reason or "")[:300],
            needs_record_check=needs_check,
            created_by=by,
        )
        record(
            "takehome_request",
            target=str(request.external_id),
            client_code=client.code,
            kind=kind,
            days=days,
            allowed=decision.allowed_days,
        )
    return request


def _locked(request: TakeHomeRequest) -> TakeHomeRequest:
    return TakeHomeRequest.objects.select_for_update().select_related("client").get(pk=request.pk)


def decide_takehome(
    request: TakeHomeRequest, by, approve: bool, days: int | None = None, reason: str = ""
) -> TakeHomeRequest:
    """The clinician approves N days (no more than the record allowed) or refuses, with why."""
    require(by, "decide_takehome")
    with acting(by), transaction.atomic():
        request = _locked(request)
        if request.status != RequestStatus.REQUESTED:
            raise Refusal(_("This request was already decided."))
        if approve:
            suspensions.refuse_if_suspended(request.client)
            try:
                days = int(days if days is not None else request.days_requested)
            except (TypeError, ValueError):
                raise Refusal(_("The number of days must be a whole number.")) from None
            if request.kind == RequestKind.REGULAR:
                limit = int(request.eligibility.get("allowed_days", 0))
            else:
                limit = queries.rules_of(request.standard).closed_days.max_days
            limit = min(limit, request.days_requested)
            if not 1 <= days <= limit:
                raise Refusal(_("Between 1 and %(n)d days may be approved.") % {"n": limit})
            request.approved_days = days
            request.status = (
                RequestStatus.APPROVED if request.needs_record_check else RequestStatus.READY
            )
            request.decision_reason = (reason or "").strip()[:300]
        else:
            request.decision_reason = required_reason(reason)
            request.status = RequestStatus.REFUSED
        request.decided_by, request.decided_at = by, clock.now()
        request.save()
        record(
            "takehome_decide",
            target=str(request.external_id),
            client_code=request.client.code,
            approved=approve,
            days=request.approved_days,
            reason=request.decision_reason,
        )
    return request


def has_check_consent(client: Client) -> bool:
    return client.consents.filter(
        purpose=Purpose.POLICE_RECORD_CHECK, revoked_on__isnull=True
    ).exists()


def disclosed_identity(request: TakeHomeRequest, by) -> dict[str, str] | None:
    """The identity fields shown to the officer: only with consent, and every read audited."""
    require(by, "record_check")
    client = request.client
    if not has_check_consent(client):
        return None
    with acting(by), transaction.atomic():
        identity = Identity.objects.filter(client=client).first()
        record(
            "identity_read",
            target=f"registry.client:{client.external_id}",
            client_code=client.code,
            purpose="police_record_check",
            fields=list(DISCLOSED_FIELDS),
            on_file=identity is not None,
        )
    if identity is None:
        return {}
    return {name: getattr(identity, name) for name in DISCLOSED_FIELDS}


def record_check(request: TakeHomeRequest, by, passed: bool, reason: str = "") -> RecordCheck:
    """The police officer's result; a failed check carries a reason the clinician sees."""
    require(by, "record_check")
    with acting(by), transaction.atomic():
        request = _locked(request)
        if request.status != RequestStatus.APPROVED:
            raise Refusal(_("This request is not waiting for a record check."))
        if not has_check_consent(request.client):
            raise Refusal(_("The client has not consented to a record check."), code="no_consent")
        reason = (reason or "").strip()[:300] if passed else required_reason(reason)
        check = RecordCheck.objects.create(
            request=request,
            client=request.client,
            officer=by,
            checked_on=clock.today(),
            passed=passed,
            reason=reason,
            disclosed=list(DISCLOSED_FIELDS),
            created_by=by,
        )
        request.status = RequestStatus.READY if passed else RequestStatus.CHECK_FAILED
        request.save(update_fields=["status"])
        record(
            "takehome_record_check",
            target=str(request.external_id),
            client_code=request.client.code,
            passed=passed,
            reason=reason,
        )
    return check


# Dispensing and returns ------------------------------------------------------------------


def active_box(client: Client) -> Box | None:
    return Box.objects.filter(client=client, retired_on__isnull=True).first()


def _mg_on(client: Client, day: date) -> int:
    prescription = Prescription.objects.filter(client=client, superseded_at__isnull=True).first()
    if prescription is None:
        raise Refusal(_("The client has no prescription in force."))
    plan = TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).first()
    taper = None
    if plan is not None:
        taper = dosing_rules.Taper(
            plan.start_on, plan.from_mg, plan.to_mg, plan.step_mg, plan.every_days
        )
    return dosing_rules.scheduled_dose(prescription.mg, taper, day).mg


def dispense_lapses(request: TakeHomeRequest, day: date, count: int | None = None) -> list[str]:
    """Why the bottles of an approved request may not be dispensed on `day`, one reason per
    lapse since the approval (nothing: they may). The client is evaluated again against the
    standard in force that day: a standing suspension; not in treatment; for a regular
    request, a record that now allows fewer days than `count` (the approved days when not
    given), with each tier tried and why it failed (a new positive sample, missed days);
    and any administrative check that passed when the request was made and fails now (a
    consent revoked, the lockbox retired, the record check expired)."""
    client = request.client
    found = suspensions.standing(client)
    reasons = [suspensions.describe(found)] if found else []
    rules_ = queries.rules_of(queries.standard_in_force(day))
    decision = queries.evaluate_client(client, day, rules_)
    if decision is None:
        return [*reasons, _("The client is not in treatment.")]
    wanted = count if count is not None else request.approved_days or 0
    if request.kind == RequestKind.REGULAR and decision.allowed_days < wanted:
        # Each tier tried and failed; when none failed, the day of treatment says why (the
        # standard in force starts the approved tier later).
        why = "; ".join(
            decision.failed("day", "tier")
            or [c.evidence for c in decision.checks if c.kind == "day"]
        )
        if decision.allowed_days == 0:
            reasons.append(_("The record no longer allows take-home: %(why)s") % {"why": why})
        else:
            reasons.append(
                _(
                    "The record now allows %(allowed)d days, fewer than %(wanted)d"
                    " (%(why)s): dispense no more than %(allowed)d."
                )
                % {"allowed": decision.allowed_days, "wanted": wanted, "why": why}
            )
    passed_then = {
        c.get("name") for c in request.eligibility.get("checks", ()) if c.get("passed") is True
    }
    reasons.extend(
        c.evidence
        for c in decision.checks
        if c.kind == "administrative" and c.passed is False and c.name in passed_then
    )
    return reasons


def dispense_takehome(request: TakeHomeRequest, days: list[date], by) -> list[TakeHomeBottle]:
    """One bottle per future day into the client's active lockbox: each bottle is a dose of
    kind take-home for its day plus a ledger line, all written together or not at all.
    The client is evaluated again first (`dispense_lapses`): a lapse since the approval
    refuses the whole dispense with its reasons."""
    require(by, "dispense_takehome")
    days = sorted(set(days))
    today = clock.today()
    with acting(by), transaction.atomic():
        request = _locked(request)
        client = request.client
        if request.status != RequestStatus.READY:
            raise Refusal(_("This request is not ready to dispense."))
        if not days or len(days) > (request.approved_days or 0):
            raise Refusal(_("Choose between 1 and %(n)d days.") % {"n": request.approved_days or 0})
        if days[0] <= today:
            raise Refusal(_("Bottles are for future days; today's dose is observed."))
        lapses = dispense_lapses(request, today, len(days))
        if lapses:
            raise Refusal(
                [_("Not dispensed: the client no longer meets the standard in force."), *lapses],
                code="lapsed",
            )
        if request.kind == RequestKind.CLOSED_DAY:
            rules_ = queries.rules_of(request.standard)
            open_days = [d for d in days if not closures.is_closed(d, rules_)]
            if open_days:
                raise Refusal(
                    _("The centre is open on %(days)s: the closed-day allowance does not cover it.")
                    % {"days": ", ".join(d.isoformat() for d in open_days)}
                )
        box = active_box(client)
        if box is None:
            raise Refusal(_("The client has no lockbox issued."), code="no_box")
        bottles = []
        for day in days:
            mg = _mg_on(client, day)
            dose = record_takehome_dose(client, day, mg, by, note=_("take-home bottle"))
            bottles.append(
                TakeHomeBottle.objects.create(
                    client=client,
                    box=box,
                    day=day,
                    mg=mg,
                    dose=dose,
                    request=request,
                    created_by=by,
                )
            )
        request.status = RequestStatus.DISPENSED
        request.dispensed_by, request.dispensed_at = by, clock.now()
        request.save(update_fields=["status", "dispensed_by", "dispensed_at"])
        record(
            "takehome_dispense",
            target=str(request.external_id),
            client_code=client.code,
            box=box.label,
            days=[d.isoformat() for d in days],
            mg=[b.mg for b in bottles],
        )
    return bottles


def outstanding_bottles(client: Client, today: date | None = None):
    """Bottles whose day has passed and that have not come back yet."""
    today = today or clock.today()
    return TakeHomeBottle.objects.filter(
        client=client, status=BottleStatus.DISPENSED, day__lt=today
    ).order_by("day")


def return_bottles(bottles: list[TakeHomeBottle], by) -> int:
    """Count empty bottles back in."""
    require(by, "dispense_takehome")
    now, count = clock.now(), 0
    with acting(by), transaction.atomic():
        for bottle in bottles:
            bottle = TakeHomeBottle.objects.select_for_update().get(pk=bottle.pk)
            if bottle.status != BottleStatus.DISPENSED:
                continue
            bottle.status, bottle.returned_at, bottle.returned_to = BottleStatus.RETURNED, now, by
            bottle.save(update_fields=["status", "returned_at", "returned_to"])
            record("bottle_return", target=str(bottle.external_id), client_code=bottle.client.code)
            count += 1
    return count


def mark_missing(bottle: TakeHomeBottle, by, note: str = "") -> Incident:
    """A bottle not brought back by the next visit: marked missing, and an incident opens."""
    require(by, "dispense_takehome")
    with acting(by), transaction.atomic():
        bottle = (
            TakeHomeBottle.objects.select_for_update().select_related("client").get(pk=bottle.pk)
        )
        if bottle.status != BottleStatus.DISPENSED:
            raise Refusal(_("This bottle is not outstanding."))
        bottle.status = BottleStatus.MISSING
        bottle.save(update_fields=["status"])
        text = (note or "").strip() or _("Bottle for %(day)s not returned.") % {
            "day": bottle.day.isoformat()
        }
        incident = Incident.objects.create(
            client=bottle.client,
            bottle=bottle,
            opened_at=clock.now(),
            note=text[:500],
            created_by=by,
        )
        record(
            "bottle_missing",
            target=str(bottle.external_id),
            client_code=bottle.client.code,
            incident=str(incident.external_id),
        )
    return incident


def close_incident(incident: Incident, by, note: str) -> Incident:
    require(by, "decide_takehome")
    note = required_reason(note)
    with acting(by), transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.closed_at is not None:
            raise Refusal(_("This incident is already closed."))
        incident.closed_at, incident.closed_by, incident.close_note = clock.now(), by, note
        incident.save(update_fields=["closed_at", "closed_by", "close_note"])
        record("incident_close", target=str(incident.external_id), note=note)
    return incident


# Suspending take-home ----------------------------------------------------------------------


def suspend_takehome(
    client: Client, reason: str | None, review_on: date | str | None, by
) -> Suspension:
    """Suspend take-home for `client` until a clinician lifts it, to be reviewed by
    `review_on`. Refused, writing nothing, without a reason, without a sensible review day,
    or while a suspension stands."""
    require(by, "decide_takehome")
    reason = suspensions.given_reason(reason)
    review_on = suspensions.review_day(review_on, clock.today())
    again = _(suspensions.AGAIN)
    try:
        with acting(by), transaction.atomic():
            suspensions.refuse_if_suspended(client, again)
            suspension = Suspension.objects.create(
                client=client,
                reason=reason,
                review_on=review_on,
                suspended_by=by,
                suspended_at=clock.now(),
                created_by=by,
            )
            record(
                "takehome_suspend",
                target=str(suspension.external_id),
                client_code=client.code,
                reason=reason,
                review_on=review_on,
            )
    except IntegrityError:
        # Suspended by another clinician a moment ago: the one standing suspension per
        # client is the database's constraint.
        suspensions.refuse_if_suspended(client, again)
        raise
    return suspension


def lift_suspension(suspension: Suspension, note: str | None, by) -> Suspension:
    """Lift a standing suspension, with a note saying why take-home may resume."""
    require(by, "decide_takehome")
    note = suspensions.given_note(note)
    with acting(by), transaction.atomic():
        suspension = (
            Suspension.objects.select_for_update().select_related("client").get(pk=suspension.pk)
        )
        if suspension.lifted_at is not None:
            raise Refusal(_("This suspension is already lifted."), code="lifted")
        suspension.lifted_at, suspension.lifted_by, suspension.lift_note = clock.now(), by, note
        suspension.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
        record(
            "takehome_suspension_lift",
            target=str(suspension.external_id),
            client_code=suspension.client.code,
            note=note,
            suspended_for=suspension.reason,
        )
    return suspension


# Closed days entered by hand ---------------------------------------------------------------

# A typing slip (year 0202 or 20277) is refused rather than stored as a closed day.
CLOSURE_YEARS = (2000, 2099)


def _closure_day(value: date | str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Refusal(
                _("“%(value)s” is not a date: enter it as YYYY-MM-DD, e.g. 2027-02-06.")
                % {"value": value.strip()[:40]},
                code="day",
            ) from None
    first, last = CLOSURE_YEARS
    if not first <= value.year <= last:
        raise Refusal(
            _("Enter a day between %(first)d and %(last)d.") % {"first": first, "last": last},
            code="day",
        )
    return value


def add_closure(day: date | str, reason: str, by) -> ClosedDay:
    """A day the centre closes that the holiday calendar does not know (a training day, or a
    public holiday of a year the calendar does not cover yet). A day entered before is
    refused, with the reason it was entered for."""
    require(by, "draft_standard")
    day = _closure_day(day)
    reason = (reason or "").strip()
    if not reason:
        raise Refusal(_("A reason is required."), code="reason")
    if len(reason) > 200:
        raise Refusal(_("Keep the reason to 200 characters or fewer."), code="reason")
    try:
        with acting(by), transaction.atomic():
            closure = ClosedDay.objects.create(day=day, reason=reason, created_by=by)
            record("centre_closure", target=day.isoformat(), reason=reason)
    except IntegrityError:
        # Entered before, or by another manager a moment ago: the unique day says so.
        earlier = ClosedDay.objects.filter(day=day).values_list("reason", flat=True).first()
        raise Refusal(
            _("%(day)s is already entered as closed: %(reason)s.")
            % {"day": day.isoformat(), "reason": earlier or reason},
            code="duplicate",
        ) from None
    return closure


def remove_closure(closure: ClosedDay, by) -> None:
    """Open again a day entered by hand. Bottles already dispensed for it stay dispensed."""
    require(by, "draft_standard")
    with acting(by), transaction.atomic():
        deleted, _rows = ClosedDay.objects.filter(pk=closure.pk).delete()
        if not deleted:
            raise Refusal(_("That day is no longer marked closed."), code="gone")
        record("centre_closure_removed", target=closure.day.isoformat(), reason=closure.reason)
