"""Every code the export writes, in one place, each with where it comes from.

Only codes checked against their publisher are used (docs/fhir.md, "Codes"). Where no
checked code exists for a thing (the urine specimen, a TB screen, ketamine) the concept is
written as text alone: a reader gets the meaning, and no code is guessed. Ping An's own
vocabularies (consent purposes, hold kinds, kinds of care) go out under Ping An's own code
systems, named under `BASE`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings

# The canonical base of Ping An's identifiers, code systems and measures. `.invalid` is a
# name no one can register (RFC 2606), so it can never be mistaken for someone else's
# system; a region with its own canonical base sets PINGAN_FHIR_BASE.
DEFAULT_BASE = "https://pingan.invalid/fhir"


def base() -> str:
    return getattr(settings, "PINGAN_FHIR_BASE", DEFAULT_BASE).rstrip("/")


def system(name: str) -> str:
    """Ping An's own code or identifier system `name`."""
    return f"{base()}/{name}"


# Namespace of the ids derived from a code (a centre) or from another external id (the
# Observation of one analyte of a sample): uuid5 of public values, never an internal key.
NAMESPACE = uuid.UUID("5b0f3c0e-63a1-4b7e-9d55-2f1c0c6d7a10")


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
MEASURE_SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
MEASURE_POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"

# meta.security: substance use (ETH) and restricted (R) on every client-level resource,
# HIV on those that carry HIV information.
ETH = {"system": ACT_CODE, "code": "ETH", "display": "substance abuse information sensitivity"}
HIV = {"system": ACT_CODE, "code": "HIV", "display": "HIV/AIDS information sensitivity"}
RESTRICTED = {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}
CLIENT_META = {"security": [ETH, RESTRICTED]}
HIV_META = {"security": [ETH, RESTRICTED, HIV]}

# LOINC, urine drug screens by screen method (the value sets of the CDC opioid prescribing
# guideline implementation guide). Ketamine has no checked code: text only.
URINE_LOINC: dict[str, str] = {
    "opiates": "19295-5",
    "morphine": "19597-4",
    "methadone": "19550-3",
    "eddp": "93495-0",
    "amphetamines": "19261-7",
    "methamphetamine": "19554-5",
}
URINE_TEXT: dict[str, str] = {
    "opiates": "Opiates [Presence] in Urine by Screen method",
    "morphine": "Morphine [Presence] in Urine by Screen method",
    "methadone": "Methadone [Presence] in Urine by Screen method",
    "eddp": "EDDP (methadone metabolite) [Presence] in Urine by Screen method",
    "amphetamines": "Amphetamines [Presence] in Urine by Screen method",
    "methamphetamine": "Methamphetamine [Presence] in Urine by Screen method",
    "ketamine": "Ketamine [Presence] in Urine by Screen method",
}

# LOINC, infections. Ping An's HCV test is the qualitative antibody screen (positive /
# negative); an HCV RNA result (11259-9) is a different test and is not recorded. The TB,
# hepatitis B and syphilis screens have no checked code: text only.
TEST_LOINC: dict[str, str] = {"hiv": "56888-1", "hcv": "13955-0"}
TEST_TEXT: dict[str, str] = {
    "hiv": "HIV 1+2 antibody and HIV-1 p24 antigen",
    "hcv": "Hepatitis C virus antibody",
    "hbv": "Hepatitis B screening",
    "syphilis": "Syphilis screening",
    "tb": "Tuberculosis screening",
}

# RxNorm, methadone hydrochloride oral solution by strength (mg per mL).
RXNORM_BY_STRENGTH: dict[Decimal, str] = {
    Decimal("10"): "991147",
    Decimal("1"): "864761",
    Decimal("5"): "864826",
}


def concept(code: str | None, system_url: str, text: str) -> dict:
    """A CodeableConcept: coded when a checked code exists, text alone otherwise."""
    if code is None:
        return {"text": text}
    return {"coding": [{"system": system_url, "code": code}], "text": text}


def mg(value: int) -> dict:
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def ml(value: Decimal) -> dict:
    return {"value": float(value), "unit": "mL", "system": UCUM, "code": "mL"}


ONE_DAY = {"value": 1, "unit": "day", "system": UCUM, "code": "d"}

POSITIVE = [{"coding": [{"system": INTERPRETATION, "code": "POS", "display": "Positive"}]}]
NEGATIVE = [{"coding": [{"system": INTERPRETATION, "code": "NEG", "display": "Negative"}]}]
LABORATORY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}]


def interpretation(result: str) -> list[dict]:
    return POSITIVE if result == "positive" else NEGATIVE


def result_value(result: str) -> dict:
    return {"text": "Positive" if result == "positive" else "Negative"}
