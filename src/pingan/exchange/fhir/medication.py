"""MedicationRequest (prescriptions), MedicationAdministration (doses taken in the clinic or
at a guest centre) and MedicationDispense (take-home bottles, one day's dose each).

A dose row is one client's methadone for one day, whatever its kind: the day is the dose's
own (`Dose.date`), so a take-home bottle handed over on Friday for Sunday is dispensed on
Friday and covers Sunday (`dosageInstruction.timing.event`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Q

from pingan.dosing.models import Dose, DoseKind, Prescription

from . import codes
from .scope import Scope, day_of, ref

METHADONE_TEXT = "methadone hydrochloride oral solution"
_MEDICATIONS: dict[Decimal, dict] = {}


def medication(strength: Decimal | None) -> dict:
    """The product as a CodeableConcept: RxNorm when its strength has a checked code."""
    if strength is None:
        return {"text": METHADONE_TEXT}
    found = _MEDICATIONS.get(strength)  # equal Decimals hash alike: 1.00 finds 1
    if found is None:
        key = Decimal(strength).normalize()
        text = f"methadone hydrochloride {key:f} mg/mL oral solution"
        found = codes.concept(codes.RXNORM_BY_STRENGTH.get(key), codes.RXNORM, text)
        _MEDICATIONS[key] = found
    return found


DAILY = {"frequency": 1, "period": 1, "periodUnit": "d"}

# MedicationRequest ---------------------------------------------------------------------------


def _prescriptions(scope: Scope):
    found = scope.records(Prescription.objects.all())
    if scope.since:
        found = found.filter(
            Q(start_on__gte=scope.since)
            | Q(superseded_at__isnull=True)
            | Q(superseded_at__gte=scope.since_instant)
        )
    return found


def medication_requests(scope: Scope) -> Iterator[dict]:
    rows = (
        _prescriptions(scope)
        .order_by("pk")
        .values_list(
            "external_id", "client__external_id", "mg", "start_on", "created_at", "superseded_at"
        )
    )
    methadone = medication(None)
    for external_id, client, mg, start_on, created_at, superseded_at in rows.iterator(
        chunk_size=2000
    ):
        yield {
            "resourceType": "MedicationRequest",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            # A change of dose supersedes the prescription: it stops, the new one is active.
            "status": "active" if superseded_at is None else "stopped",
            "intent": "order",
            "medicationCodeableConcept": methadone,
            "subject": ref("Patient", client),
            "authoredOn": created_at,
            "dosageInstruction": [
                {
                    "text": f"{mg} mg once a day",
                    "timing": {"repeat": {**DAILY, "boundsPeriod": {"start": start_on}}},
                    "doseAndRate": [{"doseQuantity": codes.mg(mg)}],
                }
            ],
        }


def count_medication_requests(scope: Scope) -> int:
    return _prescriptions(scope).count()


# Doses -----------------------------------------------------------------------------------


def _doses(scope: Scope, takehome: bool):
    doses = scope.records(Dose.objects.all())
    if takehome:
        doses = doses.filter(kind=DoseKind.TAKEHOME)
    else:
        doses = doses.exclude(kind=DoseKind.TAKEHOME)
    if scope.since:
        doses = doses.filter(date__gte=scope.since)
    return doses


DOSE_COLUMNS = (
    "external_id",
    "client__external_id",
    "date",
    "kind",
    "mg",
    "strength_mg_per_ml",
    "volume_ml",
    "given_at",
    "dispenser_id",
)
GUEST = {"text": "Dosed at another centre"}
# Plain strings: compared on every dose, an enum member costs a lookup each time.
GUEST_KIND, TAKEHOME_KIND = DoseKind.GUEST.value, DoseKind.TAKEHOME.value


def medication_administrations(scope: Scope) -> Iterator[dict]:
    rows = _doses(scope, takehome=False).order_by("pk").values_list(*DOSE_COLUMNS)
    tz = scope.tz
    for external_id, client, day, kind, mg, strength, _ml, given_at, dispenser in rows.iterator(
        chunk_size=5000
    ):
        resource = {
            "resourceType": "MedicationAdministration",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "completed",
            "medicationCodeableConcept": medication(strength),
            "subject": ref("Patient", client),
            "effectiveDateTime": day_of(given_at, day, tz),
            "dosage": {"dose": codes.mg(mg)},
        }
        if kind == GUEST_KIND:
            resource["category"] = GUEST
        elif dispenser is not None:
            resource["performer"] = [{"actor": ref("Practitioner", scope.practitioner(dispenser))}]
        yield resource


def count_medication_administrations(scope: Scope) -> int:
    return _doses(scope, takehome=False).count()


def medication_dispenses(scope: Scope) -> Iterator[dict]:
    rows = _doses(scope, takehome=True).order_by("pk").values_list(*DOSE_COLUMNS)
    for external_id, client, day, _kind, mg, strength, volume, given_at, dispenser in rows.iterator(
        chunk_size=5000
    ):
        resource = {
            "resourceType": "MedicationDispense",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "completed",
            "medicationCodeableConcept": medication(strength),
            "subject": ref("Patient", client),
            "quantity": codes.ml(volume),
            "daysSupply": codes.ONE_DAY,
            "whenHandedOver": given_at,
            "dosageInstruction": [
                {"timing": {"event": [day]}, "doseAndRate": [{"doseQuantity": codes.mg(mg)}]}
            ],
        }
        if dispenser is not None:
            resource["performer"] = [{"actor": ref("Practitioner", scope.practitioner(dispenser))}]
        yield resource


def count_medication_dispenses(scope: Scope) -> int:
    return _doses(scope, takehome=True).count()
