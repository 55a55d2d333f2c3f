"""Recording what safe prescribing needs: ECGs, other medicines, pregnancy, and the
centre's dosing limits and missed-dose thresholds. One transaction each, audited; bad input
is refused before anything is written."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.core.models import Centre
from pingan.region.current import centres_of
from pingan.registry.models import Client

from . import interactions
from .limits import LIMIT_FIELDS, QTC_MAX_MS, QTC_MIN_MS
from .models import DosingLimits, Ecg, OtherMedicine, Pregnancy


def _not_future(day: date, what: str) -> date:
    if not isinstance(day, date):
        raise Refusal(_("Enter a valid date."), code="date")
    if day > clock.today():
        raise Refusal(_("%(what)s cannot be in the future.") % {"what": what}, code="future")
    return day


def record_ecg(client: Client, recorded_on: date, qtc_ms, by, note: str = "") -> Ecg:
    """An ECG with its QTc: 300–700 ms (outside is a typing or machine error), not dated
    in the future."""
    require(by, "prescribe")
    try:
        qtc = int(qtc_ms)
    except (TypeError, ValueError):
        raise Refusal(_("The QTc must be a whole number of ms."), code="qtc") from None
    if not QTC_MIN_MS <= qtc <= QTC_MAX_MS:
        raise Refusal(
            _("The QTc must be between %(min)d and %(max)d ms.")
            % {"min": QTC_MIN_MS, "max": QTC_MAX_MS},
            code="qtc",
        )
    _not_future(recorded_on, _("The ECG's date"))
    with acting(by), transaction.atomic():
        ecg = Ecg.objects.create(
            client=client,
            recorded_on=recorded_on,
            qtc_ms=qtc,
            note=(note or "")[:300],
            created_by=by,
        )
        record(
            "ecg_record",
            target=str(ecg.external_id),
            client_code=client.code,
            recorded_on=recorded_on,
            qtc_ms=qtc,
        )
    return ecg


def start_medicine(client: Client, name: str, started_on: date, by, note: str = ""):
    """Another medicine the client takes from `started_on`."""
    require(by, "prescribe")
    name = (name or "").strip()[:120]
    if not name:
        raise Refusal(_("Name the medicine."), code="name")
    if not isinstance(started_on, date):
        raise Refusal(_("Enter a valid date."), code="date")
    found = interactions.match(name)
    with acting(by), transaction.atomic():
        medicine = OtherMedicine.objects.create(
            client=client,
            name=name,
            started_on=started_on,
            note=(note or "")[:300],
            created_by=by,
        )
        record(
            "medicine_start",
            target=str(medicine.external_id),
            client_code=client.code,
            name=name,
            started_on=started_on,
            interaction=found.key if found else None,
        )
    return medicine


def stop_medicine(medicine: OtherMedicine, stopped_on: date, by) -> OtherMedicine:
    require(by, "prescribe")
    if not isinstance(stopped_on, date):
        raise Refusal(_("Enter a valid date."), code="date")
    with acting(by), transaction.atomic():
        medicine = OtherMedicine.objects.select_for_update().get(pk=medicine.pk)
        if medicine.stopped_on is not None:
            raise Refusal(_("This medicine was already stopped."))
        if stopped_on < medicine.started_on:
            raise Refusal(_("A medicine cannot stop before it started."), code="date")
        medicine.stopped_on = stopped_on
        medicine.save(update_fields=["stopped_on"])
        record(
            "medicine_stop",
            target=str(medicine.external_id),
            client_code=medicine.client.code,
            stopped_on=stopped_on,
        )
    return medicine


def set_pregnancy(
    client: Client, known_on: date, due_on: date | None, by, note: str = ""
) -> Pregnancy:
    """Flag a pregnancy (one open at a time)."""
    require(by, "prescribe")
    _not_future(known_on, _("The day the pregnancy was known"))
    if due_on is not None and due_on < known_on:
        raise Refusal(_("The expected delivery cannot be before the pregnancy was known."))
    with acting(by), transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        if Pregnancy.objects.filter(client=client, ended_on__isnull=True).exists():
            raise Refusal(_("A pregnancy is already recorded for this client."))
        pregnancy = Pregnancy.objects.create(
            client=client,
            known_on=known_on,
            due_on=due_on,
            note=(note or "")[:300],
            created_by=by,
        )
        record(
            "pregnancy_set",
            target=str(pregnancy.external_id),
            client_code=client.code,
            known_on=known_on,
            due_on=due_on,
        )
    return pregnancy


def end_pregnancy(pregnancy: Pregnancy, ended_on: date, by) -> Pregnancy:
    require(by, "prescribe")
    _not_future(ended_on, _("The end of the pregnancy"))
    with acting(by), transaction.atomic():
        pregnancy = Pregnancy.objects.select_for_update().get(pk=pregnancy.pk)
        if pregnancy.ended_on is not None:
            raise Refusal(_("This pregnancy was already ended."))
        if ended_on < pregnancy.known_on:
            raise Refusal(_("A pregnancy cannot end before it was known."), code="date")
        pregnancy.ended_on = ended_on
        pregnancy.save(update_fields=["ended_on"])
        record(
            "pregnancy_end",
            target=str(pregnancy.external_id),
            client_code=pregnancy.client.code,
            ended_on=ended_on,
        )
    return pregnancy


def save_limits(values: dict, by, centre: Centre | None = None) -> DosingLimits:
    """A centre's induction and titration limits (the installation's centre when none is
    named); the model's checks keep them coherent (the first dose within the first day,
    the QTc warning below the override level)."""
    require(by, "manage_staff")
    with acting(by), transaction.atomic():
        centre = centre or Centre.current()
        limits, _created = DosingLimits.objects.get_or_create(centre=centre)
        before = {name: getattr(limits, name) for name in LIMIT_FIELDS}
        for name in LIMIT_FIELDS:
            if name in values and values[name] is not None:
                setattr(limits, name, int(values[name]))
        limits.full_clean(exclude=["centre"])
        limits.save()
        record(
            "dosing_limits",
            centre=centre,
            before=before,
            after={name: getattr(limits, name) for name in LIMIT_FIELDS},
        )
    return limits


# Thresholds are days (3 and 5 by default): one beyond two months would never stop a dose
# in time, so a larger number is taken for a typing error.
MAX_MISSED_DAYS = 60
MISSED_DAY_FIELDS = ("review_after_missed_days", "reinduction_after_missed_days")


def _whole_days(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def save_missed_dose_thresholds(centre: Centre, review_days, reinduction_days, by) -> Centre:
    """The centre's missed-dose thresholds (docs/dosing-rules.md): after how many missed
    days a dose waits for a clinician's review, and after how many it restarts induction.
    Each is a whole number of days from 1 to `MAX_MISSED_DAYS`, and re-induction comes
    later than review (also a check constraint on the centre). Only the centre's own
    manager changes them; audited with the values before and after."""
    require(by, "manage_staff")
    mine = centres_of(by)
    if mine and centre.pk not in {c.pk for c in mine}:
        raise Refusal(
            _("Only a manager of this centre changes its missed-dose thresholds."),
            code="not_member",
        )
    values: dict[str, int] = {}
    errors: dict[str, list[ValidationError]] = {}
    for name, given in zip(MISSED_DAY_FIELDS, (review_days, reinduction_days), strict=True):
        days = _whole_days(given)
        if days is None or not 1 <= days <= MAX_MISSED_DAYS:
            message = _("Enter a whole number of days from 1 to %(max)d.") % {
                "max": MAX_MISSED_DAYS
            }
            errors[name] = [ValidationError(message, code="days")]
        else:
            values[name] = days
    if not errors and values[MISSED_DAY_FIELDS[1]] <= values[MISSED_DAY_FIELDS[0]]:
        message = _(
            "Re-induction must take more missed days than the clinician review "
            "(more than %(review)d)."
        ) % {"review": values[MISSED_DAY_FIELDS[0]]}
        errors[MISSED_DAY_FIELDS[1]] = [ValidationError(message, code="order")]
    if errors:
        raise ValidationError(errors)
    with acting(by), transaction.atomic():
        locked = Centre.objects.select_for_update().get(pk=centre.pk)
        before = {name: getattr(locked, name) for name in MISSED_DAY_FIELDS}
        for name, days in values.items():
            setattr(locked, name, days)
        locked.save(update_fields=list(MISSED_DAY_FIELDS))
        record("missed_dose_thresholds", centre=locked, before=before, after=values)
    return locked
