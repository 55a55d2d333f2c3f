"""Organization, Practitioner, Patient, EpisodeOfCare, Consent and Flag.

A Patient is pseudonymous: the programme code, sex and birth year. The identity vault, the
alias and the photo never leave; neither does a member of staff's name or login (a
Practitioner is a keyed pseudonym) nor any free text staff typed (reasons, notes), which
may name someone.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from pingan.dosing.models import Dose, Hold, HoldKind
from pingan.labs.models import InfectionTest
from pingan.referrals.models import Partner
from pingan.registry.models import Client, Consent, Episode

from . import codes
from .scope import Scope, ref

GENDER = {"M": "male", "F": "female", "X": "unknown"}


# Organization ---------------------------------------------------------------------------


def organizations(scope: Scope) -> Iterator[dict]:
    yield {
        "resourceType": "Organization",
        "id": scope.organization_id,
        "identifier": [{"system": codes.system("centre-code"), "value": scope.centre.code}],
        "active": True,
        "name": scope.centre.name,
    }
    # Care partners (hospitals, CDC clinics, NGOs): referrals name them as performers.
    # Their contact person is not exported.
    for external_id, name, active in scope.records(Partner.objects.order_by("pk")).values_list(
        "external_id", "name", "active"
    ):
        yield {
            "resourceType": "Organization",
            "id": str(external_id),
            "active": active,
            "name": name,
        }


def count_organizations(scope: Scope) -> int:
    return 1 + scope.records(Partner.objects.all()).count()


# Practitioner ----------------------------------------------------------------------------


def _dispensers(scope: Scope):
    doses = scope.records(Dose.objects.filter(dispenser__isnull=False))
    if scope.since:
        doses = doses.filter(date__gte=scope.since)
    return doses.values_list("dispenser_id", flat=True).distinct().order_by("dispenser_id")


def practitioners(scope: Scope) -> Iterator[dict]:
    for user_id in _dispensers(scope):
        yield {"resourceType": "Practitioner", "id": scope.practitioner(user_id), "active": True}


def count_practitioners(scope: Scope) -> int:
    return _dispensers(scope).count()


# Patient ---------------------------------------------------------------------------------


def _hiv_positive(scope: Scope) -> set[int]:
    """The clients whose record holds a positive HIV test (their Patient is labelled HIV)."""
    tests = scope.records(InfectionTest.objects.filter(test="hiv", result="positive"))
    return set(tests.values_list("client_id", flat=True).distinct())


def patients(scope: Scope) -> Iterator[dict]:
    # Every client, whatever --since: the resources of the period refer to them.
    hiv = _hiv_positive(scope)
    code_system = codes.system("client-code")
    organization = scope.organization
    rows = scope.records(Client.objects.order_by("pk")).values_list(
        "pk", "external_id", "code", "sex", "birth_year"
    )
    for pk, external_id, code, sex, birth_year in rows.iterator(chunk_size=2000):
        yield {
            "resourceType": "Patient",
            "id": str(external_id),
            "meta": codes.HIV_META if pk in hiv else codes.CLIENT_META,
            "identifier": [{"system": code_system, "value": code, "assigner": organization}],
            "gender": GENDER.get(sex, "unknown"),
            "birthDate": f"{birth_year:04d}",
            "managingOrganization": organization,
        }


def count_patients(scope: Scope) -> int:
    return scope.records(Client.objects.all()).count()


# EpisodeOfCare -----------------------------------------------------------------------------


def _episodes(scope: Scope):
    episodes = scope.records(Episode.objects.all())
    if scope.since:
        episodes = episodes.filter(
            Q(discharged_on__isnull=True) | Q(discharged_on__gte=scope.since)
        )
    return episodes


MMT = [{"text": "Methadone maintenance treatment"}]


def episodes_of_care(scope: Scope) -> Iterator[dict]:
    rows = (
        _episodes(scope)
        .order_by("pk")
        .values_list(
            "external_id", "client__external_id", "enrolled_on", "discharged_on", "discharge_reason"
        )
    )
    organization = scope.organization
    reasons = codes.system("discharge-reason")
    for external_id, client, enrolled_on, discharged_on, reason in rows.iterator(chunk_size=2000):
        period = {"start": enrolled_on}
        resource = {
            "resourceType": "EpisodeOfCare",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "active" if discharged_on is None else "finished",
            "type": MMT,
            "patient": ref("Patient", client),
            "managingOrganization": organization,
            "period": period,
        }
        if discharged_on is not None:
            # Ping An counts the client in treatment up to the day before this one.
            period["end"] = discharged_on
            if reason:
                resource["extension"] = [
                    {
                        "url": codes.system("StructureDefinition/discharge-reason"),
                        "valueCoding": {"system": reasons, "code": reason},
                    }
                ]
        yield resource


def count_episodes_of_care(scope: Scope) -> int:
    return _episodes(scope).count()


# Consent ---------------------------------------------------------------------------------


def _consents(scope: Scope):
    consents = scope.records(Consent.objects.all())
    if scope.since:
        consents = consents.filter(Q(given_on__gte=scope.since) | Q(revoked_on__gte=scope.since))
    return consents


PRIVACY = {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]}
RESEARCH = {"coding": [{"system": codes.CONSENT_SCOPE, "code": "research"}]}
CONSENT_CATEGORY = [{"text": "Consent to disclose, per purpose"}]
CONSENT_RULE = {"text": "Ping An consent per purpose: without it the data is not disclosed"}
CUSTODIAN = {"text": "custodian"}


def consents(scope: Scope) -> Iterator[dict]:
    rows = (
        _consents(scope)
        .order_by("pk")
        .values_list("external_id", "client__external_id", "purpose", "given_on", "revoked_on")
    )
    purposes = codes.system("consent-purpose")
    actor = [{"role": CUSTODIAN, "reference": scope.organization}]
    for external_id, client, purpose, given_on, revoked_on in rows.iterator(chunk_size=2000):
        period = {"start": given_on}
        if revoked_on is not None:
            period["end"] = revoked_on
        yield {
            "resourceType": "Consent",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "active" if revoked_on is None else "inactive",
            "scope": RESEARCH if purpose == "research" else PRIVACY,
            "category": CONSENT_CATEGORY,
            "patient": ref("Patient", client),
            "dateTime": given_on,
            "organization": [scope.organization],
            "policyRule": CONSENT_RULE,
            "provision": {
                "type": "permit",
                "period": period,
                "actor": actor,
                "purpose": [{"system": purposes, "code": purpose}],
            },
        }


def count_consents(scope: Scope) -> int:
    return _consents(scope).count()


# Flag ------------------------------------------------------------------------------------


def _holds(scope: Scope):
    holds = scope.records(Hold.objects.all())
    if scope.since:
        start = scope.since_instant
        holds = holds.filter(
            Q(created_at__gte=start) | Q(cleared_at__isnull=True) | Q(cleared_at__gte=start)
        )
    return holds


HOLD_CATEGORY = [{"text": "Dosing hold: to be cleared before the next dose"}]


def flags(scope: Scope) -> Iterator[dict]:
    rows = (
        _holds(scope)
        .order_by("pk")
        .values_list("external_id", "client__external_id", "kind", "created_at", "cleared_at")
    )
    kinds = codes.system("hold-kind")
    labels = {k.value: str(k.label) for k in HoldKind}
    for external_id, client, kind, created_at, cleared_at in rows.iterator(chunk_size=2000):
        period = {"start": created_at}
        if cleared_at is not None:
            period["end"] = cleared_at
        yield {
            "resourceType": "Flag",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "status": "active" if cleared_at is None else "inactive",
            "category": HOLD_CATEGORY,
            "code": {
                "coding": [{"system": kinds, "code": kind, "display": labels.get(kind, kind)}]
            },
            "subject": ref("Patient", client),
            "period": period,
        }


def count_flags(scope: Scope) -> int:
    return _holds(scope).count()
