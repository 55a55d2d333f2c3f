"""State changes of the dosing app: one transaction each, each audited.

Locks are always taken in the same order — client, then product, then the audit head
(`audit.log.record` is called last) — so two actions can never wait on each other in a
circle. The database constraints (one dose per client per day, balance never negative) are
the final guard; the code turns their refusals into clear messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.audit.signals import capture_paused, target_of
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require, required_reason
from pingan.core.models import Centre
from pingan.region.current import centres_of
from pingan.region.slips import check_span
from pingan.registry.models import Client

from . import outside_keys, prescribing, queries, rules, safety
from .limits import MAX_MG, MIN_MG
from .models import (
    Dose,
    DoseKind,
    DosePart,
    GuestSlip,
    Hold,
    HoldKind,
    Prescription,
    StockEntryKind,
    TaperPlan,
)

# The stock ledger lives in `stock`; its actions are part of this module's interface too.
from .stock import (  # noqa: F401
    append_entry,
    correct,
    ensure_default_product,
    insert_row,
    product_of,
    receive,
    reconcile,
    record_waste,
    stock_movement,
)

DOSE_ON_CONFLICT = "ON CONFLICT (client_id, date) DO NOTHING"


@dataclass
class DoseResult:
    """What happened when a nurse pressed "Confirm": the dose, or why not."""

    dose: Dose | None
    blocks: list[rules.Block] = field(default_factory=list)
    hold_opened: Hold | None = None

    @property
    def ok(self) -> bool:
        return self.dose is not None

    @property
    def message(self) -> str:
        return " ".join(b.message for b in self.blocks)


def _lock_client(client: Client) -> Client:
    return Client.objects.select_for_update().defer("photo").get(pk=client.pk)


def _clean_mg(mg) -> int:
    try:
        value = int(mg)
    except (TypeError, ValueError):
        raise Refusal(_("The dose must be a whole number of mg.")) from None
    if not MIN_MG <= value <= MAX_MG:
        raise Refusal(
            _("The dose must be between %(min)d and %(max)d mg.") % {"min": MIN_MG, "max": MAX_MG}
        )
    return value


# Prescriptions and tapers ----------------------------------------------------------------

# Who may exceed a limit: the prescriber, with a reason. A separate name, so the day a
# centre wants a senior clinician for it only this line changes.
OVERRIDE_PERMISSION = "prescribe"


def clean_parts(mg: int, parts) -> tuple[int, int] | None:
    """A split dose's two parts, each at least 1 mg, adding up to the daily dose."""
    if not parts:
        return None
    try:
        first, second = (int(p) for p in parts)
    except (TypeError, ValueError):
        raise Refusal(_("Each part of a split dose must be a whole number of mg.")) from None
    if first < 1 or second < 1:
        raise Refusal(_("Each part of a split dose must be at least 1 mg."), code="split")
    if first + second != mg:
        raise Refusal(
            _("The parts (%(first)d + %(second)d mg) must add up to the daily dose of %(mg)d mg.")
            % {"first": first, "second": second, "mg": mg},
            code="split",
        )
    return first, second


def _overridden(checks: list[prescribing.Check], by, override_reason: str) -> tuple[str, str]:
    """(codes, reason) of the limits a clinician exceeds on purpose, or a refusal naming
    every limit when no reason was given or the role may not give one."""
    if not checks:
        return "", ""
    reason = (override_reason or "").strip()
    if not reason:
        raise Refusal(
            [c.message for c in checks] + [_("To go ahead, give a reason for the override.")],
            code="override",
        )
    require(by, OVERRIDE_PERMISSION)
    return ",".join(c.code for c in checks), reason[:300]


def prescribe(
    client: Client,
    mg: int,
    start_on: date,
    clinician,
    reason: str,
    induction: bool = False,
    override_reason: str = "",
    parts: tuple[int, int] | None = None,
    second_part_home: bool = False,
) -> Prescription:
    """Write a new prescription; the one in force is superseded (kept for history) and an
    active taper ends, because the new order replaces the whole plan.

    The prescription is checked against the centre's induction and titration limits and the
    client's QTc (`prescribing.review_prescription`, on facts read under the client's lock):
    a limit exceeded needs `override_reason`, which is kept on the prescription and
    audited. `parts` splits the daily dose in two; the returned prescription carries the
    `review` (from → to and every check) for the screen's message."""
    require(clinician, "prescribe")
    mg, reason = _clean_mg(mg), required_reason(reason)
    split = clean_parts(mg, parts)
    if second_part_home and split is None:
        raise Refusal(_("Only a split dose has a part to take home."), code="split")
    now = clock.now()
    with acting(clinician), transaction.atomic():
        _lock_client(client)
        today = clock.today()
        review = prescribing.review_prescription(
            safety.history(client, today),
            mg,
            start_on,
            today,
            queries.dose_limits(),
            induction=induction,
            first_part_mg=split[0] if split else None,
        )
        codes, why = _overridden(review.overrides, clinician, override_reason)
        previous = Prescription.objects.filter(client=client, superseded_at__isnull=True).first()
        if previous is not None:
            previous.superseded_at = now
            previous.save(update_fields=["superseded_at"])
        ended = TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        prescription = Prescription.objects.create(
            client=client,
            mg=mg,
            start_on=start_on,
            clinician=clinician,
            reason=reason,
            induction=induction,
            first_part_mg=split[0] if split else None,
            second_part_home=bool(second_part_home),
            overrides=codes,
            override_reason=why,
            created_by=clinician,
        )
        record(
            "prescribe",
            target=str(prescription.external_id),
            client_code=client.code,
            mg=mg,
            start_on=start_on,
            induction=induction,
            previous_mg=previous.mg if previous else None,
            from_mg=review.from_mg,
            parts=list(split) if split else None,
            second_part_home=bool(second_part_home),
            taper_ended=bool(ended),
            reason=reason,
            overrides=review_codes(review.overrides),
            override_reason=why,
            warnings=review_codes(review.warnings),
        )
    prescription.review = review
    return prescription


def review_codes(checks: list[prescribing.Check]) -> list[str]:
    return [c.code for c in checks]


def start_taper(
    client: Client,
    start_on: date,
    from_mg: int,
    to_mg: int,
    step_mg: int,
    every_days: int,
    clinician,
    reason: str,
    override_reason: str = "",
) -> TaperPlan:
    """Plan a taper (replacing any active one). It needs a prescription in force, and an
    override while the client is pregnant."""
    require(clinician, "prescribe")
    from_mg, reason = _clean_mg(from_mg), required_reason(reason)
    try:
        to_mg, step_mg, every_days = int(to_mg), int(step_mg), int(every_days)
    except (TypeError, ValueError):
        raise Refusal(_("Taper steps must be whole numbers.")) from None
    if not 0 <= to_mg < from_mg:
        raise Refusal(_("The taper must go down: the end dose must be below the start."))
    if step_mg < 1 or every_days < 1:
        raise Refusal(_("The step and the interval must be at least 1."))
    with acting(clinician), transaction.atomic():
        _lock_client(client)
        if not Prescription.objects.filter(client=client, superseded_at__isnull=True).exists():
            raise Refusal(_("Prescribe a dose before planning a taper."))
        checks = prescribing.review_taper(prescribing.History(pregnant=safety.is_pregnant(client)))
        codes, why = _overridden(checks, clinician, override_reason)
        TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).update(
            cancelled_at=clock.now()
        )
        plan = TaperPlan.objects.create(
            client=client,
            start_on=start_on,
            from_mg=from_mg,
            to_mg=to_mg,
            step_mg=step_mg,
            every_days=every_days,
            clinician=clinician,
            reason=reason,
            overrides=codes,
            override_reason=why,
            created_by=clinician,
        )
        record(
            "taper_start",
            target=str(plan.external_id),
            client_code=client.code,
            start_on=start_on,
            from_mg=from_mg,
            to_mg=to_mg,
            step_mg=step_mg,
            every_days=every_days,
            reason=reason,
            overrides=codes.split(",") if codes else [],
            override_reason=why,
        )
    return plan


def cancel_taper(plan: TaperPlan, by, reason: str = "") -> TaperPlan:
    require(by, "prescribe")
    with acting(by), transaction.atomic():
        _lock_client(plan.client)
        plan.refresh_from_db()
        if plan.cancelled_at is not None:
            raise Refusal(_("This taper was already cancelled."))
        plan.cancelled_at = clock.now()
        plan.save(update_fields=["cancelled_at"])
        record(
            "taper_cancel",
            target=str(plan.external_id),
            client_code=plan.client.code,
            reason=reason,
        )
    return plan


# Holds -------------------------------------------------------------------------------------


def _open_hold(client: Client, kind: str, reason: str, by) -> Hold:
    """Inside the caller's transaction and actor: a placed hold, or one a dose opened."""
    hold = Hold.objects.create(client=client, kind=kind, reason=reason[:300], created_by=by)
    record("hold_place", target=str(hold.external_id), client_code=client.code, kind=kind)
    return hold


def place_hold(client: Client, kind: str, reason: str, by) -> Hold:
    """Stop dosing until a clinician clears the hold (one open hold per kind). The nurse at
    the counter and the clinician may both place one."""
    require(by, "record_dose", "prescribe", any_of=True)
    if kind not in HoldKind.values:
        raise Refusal(_("Unknown kind of hold."))
    reason = required_reason(reason)
    with acting(by), transaction.atomic():
        _lock_client(client)
        if Hold.objects.filter(client=client, kind=kind, cleared_at__isnull=True).exists():
            raise Refusal(_("The client already has an open hold of this kind."))
        return _open_hold(client, kind, reason, by)


def clear_hold(hold: Hold, by, note: str) -> Hold:
    """A clinician clears a hold, saying how it was resolved. A re-induction hold clears only
    once a new induction prescription exists, written at or after the hold."""
    require(by, "clear_hold")
    note = (note or "").strip()
    if not note:
        raise Refusal(_("Say how the hold was resolved."), code="reason")
    with acting(by), transaction.atomic():
        _lock_client(hold.client)
        hold.refresh_from_db()
        if hold.cleared_at is not None:
            raise Refusal(_("This hold was already cleared."))
        if (
            hold.kind == HoldKind.REINDUCTION
            and not Prescription.objects.filter(
                client=hold.client,
                superseded_at__isnull=True,
                induction=True,
                created_at__gte=hold.created_at,
            ).exists()
        ):
            raise Refusal(
                _("Write a new induction prescription before clearing a re-induction hold."),
                code="needs_induction",
            )
        hold.cleared_at = clock.now()
        hold.cleared_by = by
        hold.clear_note = note[:300]
        hold.save(update_fields=["cleared_at", "cleared_by", "clear_note"])
        record(
            "hold_clear",
            target=str(hold.external_id),
            client_code=hold.client.code,
            kind=hold.kind,
            note=note,
        )
    return hold


# Doses -------------------------------------------------------------------------------------


def _refused(client: Client, blocks: list[rules.Block], hold: Hold | None = None):
    record("dose_refused", client_code=client.code, blocks=[b.code for b in blocks])
    return DoseResult(dose=None, blocks=blocks, hold_opened=hold)


def record_dose(
    client: Client,
    by,
    day: date | None = None,
    mg: int | None = None,
    note: str = "",
    centre: Centre | None = None,
):
    """Record today's observed dose, or say why not.

    The decision is taken again inside the transaction, under a lock on the client, so a
    stale screen cannot dose; the unique (client, date) constraint stays the last guard.
    The dose and its stock entry are written together or not at all. `mg`, when given, is
    the dose the nurse saw: if the prescription changed meanwhile, the dose is refused.

    The actor is named before any lock is taken (`acting` reads the user's role), so a
    command or a test does not look it up between the stock and the audit locks.

    `centre` is where the nurse works (None: the client's own centre). Another centre
    doses only a guest whose slip names it for the day, at most the slip's dose, from its
    own stock; on the slip's days the home centre is refused (`rules.guest_block`)."""
    require(by, "record_dose")
    day = day or clock.today()
    at = centre.pk if centre is not None else None
    guest = at is not None and at != client.centre_id
    with acting(by), transaction.atomic():
        sheet = queries.fact_sheet(client, day, lock=True)
        decision = rules.dosing_decision(
            sheet.facts, day, sheet.thresholds or queries.thresholds(client.centre), at_centre=at
        )
        hold = None
        if decision.hold_to_open:
            message = next(
                (b.message for b in decision.blocks if b.code in ("missed_review", "reinduction")),
                "",
            )
            hold = _open_hold(client, decision.hold_to_open, message, by)
        if not decision.can_dose:
            return _refused(client, decision.blocks, hold)
        if mg is not None and str(mg) != str(decision.mg):
            block = rules.Block(
                "dose_changed",
                _("The dose changed since the screen was shown: it is now %(mg)d mg.")
                % {"mg": decision.mg},
            )
            return _refused(client, [block])
        if guest:
            product = product_of(centre)
        else:
            product = sheet.product or ensure_default_product(client.centre)
        kind = DoseKind.GUEST if guest else DoseKind.CLINIC
        dose = _dose_row(client, day, kind, decision.mg, product, by, note, sheet.prescription_id)
        dose.centre_id = at if guest else client.centre_id
        dose.capped = decision.capped_from is not None
        parts = rules.split_parts(sheet.facts, decision)
        if parts is not None:
            return _record_split(client, dose, parts, sheet.facts.split_second_home, product, by)
        volume = dose.volume_ml
        # The unique (client, date) constraint answers a second dose with "nothing
        # inserted" instead of an error, so no savepoint is needed to survive it.
        if not insert_row(dose, on_conflict=DOSE_ON_CONFLICT):
            # Only a committed dose (or one of this transaction) makes the insert do
            # nothing, so it is there to read.
            existing = Dose.objects.select_related("dispenser").get(client=client, date=day)
            return _refused(client, [rules.already_dosed_block(queries.dose_today_facts(existing))])
        # The two locks every dose of the centre passes through come last: the product row
        # (in `append_entry`) and then the audit chain's head (in the "dose_record" entry),
        # each held until commit. The entry names both rows this writes, so the row-level
        # capture would only repeat it (two more links of the chain per dose).
        try:
            with capture_paused():
                entry = append_entry(product, StockEntryKind.DOSE, -volume, by=by, dose=dose)
        except Refusal as short:  # the only refusal of append_entry: not enough stock
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {Dose._meta.db_table} WHERE id = %s", [dose.pk])
            return _refused(client, [rules.Block("stock", short.message)])
        record(
            "dose_record",
            target=str(dose.external_id),
            client_code=client.code,
            date=day,
            mg=dose.mg,
            volume_ml=volume,
            centre=dose.centre_id,
            guest=guest,
            why=decision.reasons,
            rows=[target_of(dose), target_of(entry)],
            balance_ml=entry.balance_ml,
        )
    return DoseResult(dose=dose)


def _record_split(client: Client, dose: Dose, parts, home: bool, product, by) -> DoseResult:
    """A split dose: the day's one `Dose`, a `DosePart` and a ledger line per part given
    now — both when the second part goes home for the evening, else the first (the second
    follows with `record_second_part`). All or nothing, under a savepoint."""
    first, second = parts
    given = [(1, first, False)] + ([(2, second, True)] if home else [])
    strength = product.strength_mg_per_ml
    volumes = [queries.volume_ml(mg, strength) for _, mg, _ in given]
    dose.mg = sum(mg for _, mg, _ in given)
    dose.mg_in_clinic = first
    dose.mg_taken_home = second if home else 0
    dose.volume_ml = sum(volumes)
    try:
        with transaction.atomic():
            if not insert_row(dose, on_conflict=DOSE_ON_CONFLICT):
                existing = Dose.objects.select_related("dispenser").get(
                    client=client, date=dose.date
                )
                return _refused(
                    client, [rules.already_dosed_block(queries.dose_today_facts(existing))]
                )
            rows = [target_of(dose)]
            for (number, mg, at_home), volume in zip(given, volumes, strict=True):
                part = DosePart.objects.create(
                    dose=dose,
                    part=number,
                    mg=mg,
                    volume_ml=volume,
                    taken_home=at_home,
                    given_at=dose.given_at,
                    dispenser=by,
                    created_by=by,
                )
                kind = StockEntryKind.TAKEHOME if at_home else StockEntryKind.DOSE
                with capture_paused():
                    entry = append_entry(product, kind, -volume, by=by, dose=dose)
                rows += [target_of(part), target_of(entry)]
    except Refusal as short:  # not enough stock: nothing of the dose is kept
        return _refused(client, [rules.Block("stock", short.message)])
    record(
        "dose_record",
        target=str(dose.external_id),
        client_code=client.code,
        date=dose.date,
        mg=dose.mg,
        parts=[mg for _, mg, _ in given],
        second_part_home=home,
        volume_ml=dose.volume_ml,
        capped=dose.capped,
        rows=rows,
        balance_ml=entry.balance_ml,
    )
    return DoseResult(dose=dose)


def record_second_part(client: Client, by, day: date | None = None) -> DoseResult:
    """The observed second part of today's split dose: the same `Dose` grows by it (still
    one dose a day), with its own `DosePart` and ledger line."""
    require(by, "record_dose")
    day = day or clock.today()
    with acting(by), transaction.atomic():
        _lock_client(client)
        dose = (
            Dose.objects.filter(client=client, date=day, kind=DoseKind.CLINIC)
            .select_related("prescription")
            .first()
        )
        rx = dose.prescription if dose is not None else None
        given = list(dose.parts.all()) if dose is not None else []
        if rx is None or rx.first_part_mg is None or rx.second_part_home or len(given) != 1:
            block = rules.Block("no_second_part", _("No second part is due today."))
            return _refused(client, [block])
        if rx.superseded_at is not None:
            block = rules.Block(
                "dose_changed",
                _("The prescription changed since the first part: ask a clinician."),
            )
            return _refused(client, [block])
        mg = rx.mg - given[0].mg
        product = ensure_default_product(client.centre)
        volume = queries.volume_ml(mg, dose.strength_mg_per_ml)
        part = DosePart.objects.create(
            dose=dose,
            part=2,
            mg=mg,
            volume_ml=volume,
            given_at=clock.now(),
            dispenser=by,
            created_by=by,
        )
        Dose.objects.filter(pk=dose.pk).update(
            mg=dose.mg + mg, mg_in_clinic=dose.mg_in_clinic + mg, volume_ml=dose.volume_ml + volume
        )
        dose.refresh_from_db()
        with capture_paused():
            entry = append_entry(product, StockEntryKind.DOSE, -volume, by=by, dose=dose)
        record(
            "dose_second_part",
            target=str(dose.external_id),
            client_code=client.code,
            date=day,
            mg=mg,
            volume_ml=volume,
            rows=[target_of(dose), target_of(part), target_of(entry)],
            balance_ml=entry.balance_ml,
        )
    return DoseResult(dose=dose)


def _dose_row(
    client: Client, day: date, kind: str, mg: int, product, by, note: str, prescription_id
) -> Dose:
    """An unsaved Dose with every dispensing-log field, for a clinic dose (all taken in the
    clinic) or a take-home bottle (all taken home)."""
    at_home = kind == DoseKind.TAKEHOME
    return Dose(
        client=client,
        date=day,
        kind=kind,
        mg=mg,
        mg_in_clinic=0 if at_home else mg,
        mg_taken_home=mg if at_home else 0,
        drug=product.drug,
        form=product.form,
        strength_mg_per_ml=product.strength_mg_per_ml,
        volume_ml=queries.volume_ml(mg, product.strength_mg_per_ml),
        given_at=clock.now(),
        dispenser=by,
        prescription_id=prescription_id,
        note=(note or "")[:300],
        created_by=by,
        centre_id=client.centre_id,
    )


def record_takehome_dose(client: Client, day: date, mg: int, by, note: str = "") -> Dose:
    """The dose row and ledger line for one take-home bottle (called by the take-home app
    inside its own transaction). The bottle's day counts as dosed: the one-dose-a-day
    constraint refuses a day already dosed, with a clear message."""
    require(by, "dispense_takehome")
    mg = _clean_mg(mg)
    product = ensure_default_product(client.centre)
    prescription_id = (
        Prescription.objects.filter(client=client, superseded_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    dose = _dose_row(client, day, DoseKind.TAKEHOME, mg, product, by, note, prescription_id)
    try:
        with transaction.atomic():
            dose.save(force_insert=True)
            append_entry(product, StockEntryKind.TAKEHOME, -dose.volume_ml, by=by, dose=dose)
    except IntegrityError:
        raise Refusal(
            _("%(day)s already has a dose: a bottle cannot cover it.") % {"day": day.isoformat()},
            code="already_dosed",
        ) from None
    return dose


# Guest slips -------------------------------------------------------------------------------


def issue_guest_slip(client: Client, host, first: date, last: date, by) -> GuestSlip:
    """A clinician of the client's centre lets another centre of the installation (or,
    `host` a code in the key list of `outside_keys`, a centre outside it, which reads the
    slip as a signed file) dose the client from `first` to `last` (both included, at most
    30 days), at most the dose in force today. Refused, with nothing written, for an open
    hold, a host that is not another centre, a first day in the past, too many days, or
    days another open slip of the client already covers."""
    require(by, "prescribe")
    outside = ""
    if isinstance(host, str) and outside_keys.is_listed(host.strip()):
        outside, host = host.strip(), None  # a centre outside, in the key list
    elif not isinstance(host, Centre) or host.pk is None:
        raise Refusal(_("The host must be a centre of this installation."), code="host")
    if host is not None and host.pk == client.centre_id:
        raise Refusal(
            _("The host must be another centre: the client is dosed at home anyway."),
            code="host_is_home",
        )
    if not isinstance(first, date) or not isinstance(last, date):
        raise Refusal(_("Give the slip's first and last day."), code="span_order")
    check_span(first, last)
    today = clock.today()
    if first < today:
        raise Refusal(_("The slip's first day is in the past."), code="past")
    mine = centres_of(by)
    if mine and client.centre_id not in {c.pk for c in mine}:
        raise Refusal(
            _("Only a clinician of the client's own centre issues a guest slip."), code="home"
        )
    with acting(by), transaction.atomic():
        sheet = queries.fact_sheet(client, today, lock=True)
        if sheet.holds:
            raise Refusal(
                _("The client has an open hold: clear it before issuing a guest slip."),
                code="hold",
            )
        limits = sheet.thresholds or queries.thresholds(client.centre)
        mg = rules.dosing_decision(sheet.facts, today, limits).mg
        if mg is None:
            raise Refusal(_("No dose is due: a guest slip needs a dose in force."), code="no_dose")
        clash = GuestSlip.objects.filter(
            client=client, cancelled_at__isnull=True, valid_from__lte=last, valid_to__gte=first
        ).first()
        if clash is not None:
            raise Refusal(
                _("These days overlap another guest slip (%(first)s to %(last)s).")
                % {"first": clash.valid_from.isoformat(), "last": clash.valid_to.isoformat()},
                code="overlap",
            )
        slip = GuestSlip.objects.create(
            client=client,
            host=host,
            outside_host=outside,
            valid_from=first,
            valid_to=last,
            dose_mg=mg,
            issued_by=by,
            issued_at=clock.now(),
            created_by=by,
        )
        record(
            "guest_slip_issue",
            target=str(slip.external_id),
            client_code=client.code,
            host=host.code if host is not None else outside,
            valid_from=first,
            valid_to=last,
            mg=mg,
        )
    return slip


def cancel_guest_slip(slip: GuestSlip, by, reason: str = "") -> GuestSlip:
    """End a guest slip (the client came home early, the trip was called off): from now on
    the host may not dose and the home centre may."""
    require(by, "prescribe")
    with acting(by), transaction.atomic():
        _lock_client(slip.client)
        slip.refresh_from_db()
        if slip.cancelled_at is not None:
            raise Refusal(_("This guest slip was already cancelled."))
        slip.cancelled_at = clock.now()
        slip.save(update_fields=["cancelled_at"])
        record(
            "guest_slip_cancel",
            target=str(slip.external_id),
            client_code=slip.client.code,
            reason=(reason or "")[:300],
        )
    return slip
