"""ServiceRequest and Task (referrals and where each stands), Encounter (detox stays).

Police referrals go out only once they are linked to an enrolled client, and then without
anything the police wrote down about the person (name, contact) or who filed them: a
referral is a request for treatment of that Patient, performed by the centre. A care
referral names the partner organisation as performer. A detox stay is anonymous: its
Encounter names no subject, only the centre and whether it was a readmission.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from pingan.inpatient.models import Stay
from pingan.referrals.models import CareKind, CareReferral, PoliceReferral

from . import codes
from .scope import Scope, ref


def task_id(referral_id: object) -> str:
    return codes.derived_id("task", referral_id)


# Care referrals -------------------------------------------------------------------------


def _care(scope: Scope):
    found = scope.records(CareReferral.objects.all())
    if scope.since:
        found = found.filter(
            Q(sent_on__gte=scope.since)
            | Q(completed_on__isnull=True)
            | Q(completed_on__gte=scope.since)
        )
    return found


CARE_COLUMNS = (
    "external_id",
    "client__external_id",
    "kind",
    "partner__external_id",
    "sent_on",
    "due_by",
    "completed_on",
    "outcome",
)
CARE_TASK_STATUS = {
    "": "requested",
    "linked": "completed",
    "declined": "cancelled",
    "not_eligible": "rejected",
    "lost": "failed",
}


def _care_meta(kind: str) -> dict:
    return codes.HIV_META if kind == CareKind.ART else codes.CLIENT_META


# Police referrals -------------------------------------------------------------------------


def _police(scope: Scope):
    found = scope.records(
        PoliceReferral.objects.filter(client__isnull=False, merged_into__isnull=True)
    )
    if scope.since:
        found = found.filter(
            Q(referred_on__gte=scope.since)
            | Q(outcome_on__isnull=True)
            | Q(outcome_on__gte=scope.since)
        )
    return found


POLICE_COLUMNS = ("external_id", "client__external_id", "status", "referred_on", "outcome_on")
POLICE_REQUEST_STATUS = {
    "inbox": "active",
    "contacted": "active",
    "enrolled": "completed",
    "declined": "revoked",
    "unreachable": "revoked",
}
POLICE_TASK_STATUS = {
    "inbox": "requested",
    "contacted": "in-progress",
    "enrolled": "completed",
    "declined": "cancelled",
    "unreachable": "failed",
}


def _police_code() -> dict:
    return {
        "coding": [{"system": codes.system("referral-kind"), "code": "police"}],
        "text": "Referral to treatment by the police",
    }


def _care_code(kind: str, labels: dict[str, str]) -> dict:
    return {
        "coding": [{"system": codes.system("care-kind"), "code": kind}],
        "text": labels.get(kind, kind),
    }


def service_requests(scope: Scope) -> Iterator[dict]:
    labels = {k.value: str(k.label) for k in CareKind}
    rows = _care(scope).order_by("pk").values_list(*CARE_COLUMNS)
    for external_id, client, kind, partner, sent_on, due_by, completed_on, _o in rows.iterator(
        chunk_size=2000
    ):
        yield {
            "resourceType": "ServiceRequest",
            "id": str(external_id),
            "meta": _care_meta(kind),
            "status": "active" if completed_on is None else "completed",
            "intent": "order",
            "code": _care_code(kind, labels),
            "subject": ref("Patient", client),
            "occurrencePeriod": {"start": sent_on, "end": due_by},
            "authoredOn": sent_on,
            "requester": scope.organization,
            "performer": [ref("Organization", partner)],
        }
    police = _police_code()
    rows = _police(scope).order_by("pk").values_list(*POLICE_COLUMNS)
    for external_id, client, status, referred_on, _outcome_on in rows.iterator(chunk_size=2000):
        yield {
            "resourceType": "ServiceRequest",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": POLICE_REQUEST_STATUS.get(status, "unknown"),
            "intent": "order",
            "code": police,
            "subject": ref("Patient", client),
            "authoredOn": referred_on,
            "performer": [scope.organization],
        }


def count_service_requests(scope: Scope) -> int:
    return _care(scope).count() + _police(scope).count()


def _period(start, end) -> dict:
    return {"start": start} if end is None else {"start": start, "end": end}


def tasks(scope: Scope) -> Iterator[dict]:
    outcomes = codes.system("care-outcome")
    rows = _care(scope).order_by("pk").values_list(*CARE_COLUMNS)
    for external_id, client, kind, partner, sent_on, _due, completed_on, outcome in rows.iterator(
        chunk_size=2000
    ):
        task = {
            "resourceType": "Task",
            "id": task_id(external_id),
            "meta": _care_meta(kind),
            "status": CARE_TASK_STATUS.get(outcome, "requested"),
            "intent": "order",
            "focus": ref("ServiceRequest", external_id),
            "for": ref("Patient", client),
            "executionPeriod": _period(sent_on, completed_on),
            "authoredOn": sent_on,
            "owner": ref("Organization", partner),
        }
        if outcome:
            task["businessStatus"] = {"coding": [{"system": outcomes, "code": outcome}]}
        yield task
    states = codes.system("police-referral-status")
    rows = _police(scope).order_by("pk").values_list(*POLICE_COLUMNS)
    for external_id, client, status, referred_on, outcome_on in rows.iterator(chunk_size=2000):
        yield {
            "resourceType": "Task",
            "id": task_id(external_id),
            "meta": codes.CLIENT_META,
            "status": POLICE_TASK_STATUS.get(status, "requested"),
            "businessStatus": {"coding": [{"system": states, "code": status}]},
            "intent": "order",
            "focus": ref("ServiceRequest", external_id),
            "for": ref("Patient", client),
            "executionPeriod": _period(referred_on, outcome_on),
            "authoredOn": referred_on,
            "owner": scope.organization,
        }


def count_tasks(scope: Scope) -> int:
    return count_service_requests(scope)


# Encounter (detox stays) ------------------------------------------------------------------


def _stays(scope: Scope):
    stays = scope.records(Stay.objects.all())
    if scope.since:
        stays = stays.filter(
            Q(admitted_on__gte=scope.since)
            | Q(discharged_on__isnull=True)
            | Q(discharged_on__gte=scope.since)
        )
    return stays


INPATIENT = {"system": codes.ACT_CODE, "code": "IMP", "display": "inpatient encounter"}
DETOX = [{"text": "Inpatient detoxification"}]
READMISSION = {"reAdmission": {"text": "Readmission"}}


def encounters(scope: Scope) -> Iterator[dict]:
    rows = (
        _stays(scope)
        .order_by("pk")
        .values_list("external_id", "admitted_at", "discharged_at", "readmission_of_id")
    )
    organization = scope.organization
    for external_id, admitted_at, discharged_at, readmission_of in rows.iterator(chunk_size=2000):
        resource = {
            "resourceType": "Encounter",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "in-progress" if discharged_at is None else "finished",
            "class": INPATIENT,
            "type": DETOX,
            "period": _period(admitted_at, discharged_at),
            "serviceProvider": organization,
        }
        if readmission_of is not None:
            resource["hospitalization"] = READMISSION
        yield resource


def count_encounters(scope: Scope) -> int:
    return _stays(scope).count()
