"""Taper orders and the care a stay receives: methadone given, withdrawal scores,
adjunct medication, and care events per clinician (assessment, psychiatric review,
counselling, behavioural session, nursing).

What is recorded here is what the "delivered vs advertised" view and the clinicians'
fee-for-service report count. None of it looks at the ledger: an unpaid balance never
blocks a methadone dose.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require

from . import rules
from .models import (
    AdjunctMedication,
    CareEvent,
    CareKind,
    CowsScore,
    InpatientDose,
    Stay,
    TaperOrder,
)

MAX_MG = 200


def _open(stay: Stay) -> Stay:
    stay = Stay.objects.select_for_update().get(pk=stay.pk)
    if not stay.is_open:
        raise Refusal(_("This stay has ended."), code="closed")
    return stay


def _int(value, low: int, high: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Refusal(message) from None
    if not low <= number <= high:
        raise Refusal(message)
    return number


def order_taper(stay: Stay, start_on: date, start_mg, reduce_mg, every_days, user) -> TaperOrder:
    """A new taper order; the one in force is superseded and kept for the record."""
    require(user, "inpatient_orders")
    start_mg = _int(
        start_mg, 1, MAX_MG, _("The start dose must be 1 to %(max)d mg.") % {"max": MAX_MG}
    )
    reduce_mg = _int(
        reduce_mg, 0, MAX_MG, _("The daily reduction must be 0 to %(max)d mg.") % {"max": MAX_MG}
    )
    every_days = _int(every_days, 1, 30, _("Reduce every 1 to 30 days."))
    with acting(user), transaction.atomic():
        stay = _open(stay)
        if start_on < stay.admitted_on:
            raise Refusal(_("The taper cannot start before admission."))
        now = clock.now()
        TaperOrder.objects.filter(stay=stay, superseded_at__isnull=True).update(superseded_at=now)
        order = TaperOrder.objects.create(
            stay=stay,
            start_on=start_on,
            start_mg=start_mg,
            reduce_mg=reduce_mg,
            every_days=every_days,
            clinician=user,
            created_by=user,
        )
        record(
            "inpatient_taper",
            f"inpatient.stay:{stay.external_id}",
            start_on=start_on,
            start_mg=start_mg,
            reduce_mg=reduce_mg,
            every_days=every_days,
        )
    return order


def current_order(stay: Stay) -> TaperOrder | None:
    return stay.taper_orders.filter(superseded_at__isnull=True).first()


def planned_mg(stay: Stay, on: date) -> int | None:
    """Today's ordered dose, or None when no taper is ordered."""
    order = current_order(stay)
    if order is None:
        return None
    return rules.taper_dose(order.start_on, order.start_mg, order.reduce_mg, order.every_days, on)


def record_dose(
    stay: Stay, given_mg, user, on: date | None = None, note: str = ""
) -> InpatientDose:
    """One methadone dose per stay per day, enforced by the database; a dose different from
    the order needs a note saying why."""
    require(user, "inpatient_nursing")
    on = on or clock.today()
    given = _int(given_mg, 0, MAX_MG, _("The dose must be 0 to %(max)d mg.") % {"max": MAX_MG})
    note = (note or "").strip()[:200]
    with acting(user), transaction.atomic():
        stay = _open(stay)
        planned = planned_mg(stay, on)
        if planned is None:
            raise Refusal(
                _("No taper is ordered for this patient; ask the clinician."), code="no_order"
            )
        if given != planned and not note:
            raise Refusal(_("The dose differs from the order: say why in the note."), code="note")
        try:
            with transaction.atomic():
                dose = InpatientDose.objects.create(
                    stay=stay,
                    date=on,
                    planned_mg=planned,
                    given_mg=given,
                    nurse=user,
                    note=note,
                    created_by=user,
                )
        except IntegrityError as exc:
            raise Refusal(_("Today's dose is recorded already."), code="dosed") from exc
        record(
            "inpatient_dose",
            f"inpatient.stay:{stay.external_id}",
            date=on,
            planned=planned,
            given=given,
        )
    return dose


def record_cows(stay: Stay, items: dict, user, at: datetime | None = None) -> CowsScore:
    require(user, "inpatient_nursing")
    total = rules.cows_total(items)
    clean = {name: int(items[name]) for name, _max in rules.COWS_ITEMS}
    with acting(user), transaction.atomic():
        stay = _open(stay)
        score = CowsScore.objects.create(
            stay=stay,
            at=at or clock.now(),
            items=clean,
            total=total,
            nurse=user,
            created_by=user,
        )
        record("inpatient_cows", f"inpatient.stay:{stay.external_id}", total=total)
    return score


def record_adjunct(stay: Stay, medication: str, dose: str, user) -> AdjunctMedication:
    require(user, "inpatient_nursing")
    medication, dose = (medication or "").strip(), (dose or "").strip()
    if not medication or not dose:
        raise Refusal(_("Name the medication and the dose given."))
    with acting(user), transaction.atomic():
        stay = _open(stay)
        given = AdjunctMedication.objects.create(
            stay=stay,
            at=clock.now(),
            medication=medication[:80],
            dose=dose[:40],
            given_by=user,
            created_by=user,
        )
        record("inpatient_adjunct", f"inpatient.stay:{stay.external_id}", medication=medication)
    return given


def record_care(
    stay: Stay, kind: str, user, note: str = "", at: datetime | None = None
) -> CareEvent:
    """Care delivered by the signed-in clinician or nurse; it counts for their pay."""
    require(user, "inpatient_orders", "inpatient_nursing", any_of=True)
    if kind not in CareKind.values:
        raise Refusal(_("Choose the kind of care."))
    at = at or clock.now()
    with acting(user), transaction.atomic():
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        if at < stay.admitted_at or (stay.discharged_at and at > stay.discharged_at):
            raise Refusal(_("Care can only be recorded during the stay."))
        event = CareEvent.objects.create(
            stay=stay,
            clinician=user,
            kind=kind,
            at=at,
            note=(note or "").strip()[:300],
            created_by=user,
        )
        record("inpatient_care", f"inpatient.stay:{stay.external_id}", kind=kind)
    return event
