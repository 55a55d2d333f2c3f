"""Specimen and DiagnosticReport (one of each per urine sample), Observation (one per
analyte of a sample, and one per HIV, HCV or TB test).

An analyte's Observation has no row of its own in Ping An (a result belongs to its
sample), so its id is derived from the sample's external id and the analyte's name.
"""

from __future__ import annotations

from collections.abc import Iterator

from pingan.labs.models import InfectionTest, UrineResult, UrineSample

from . import codes
from .scope import Scope, ref

URINE = {"text": "Urine"}
URINE_SCREEN = {"text": "Urine drug screen"}


def analyte_id(sample_id: object, analyte: str) -> str:
    return codes.derived_id("urine", sample_id, analyte)


def _samples(scope: Scope):
    samples = scope.records(UrineSample.objects.all())
    if scope.since:
        samples = samples.filter(collected_on__gte=scope.since)
    return samples


def specimens(scope: Scope) -> Iterator[dict]:
    rows = (
        _samples(scope)
        .order_by("pk")
        .values_list("external_id", "client__external_id", "collected_on")
    )
    for external_id, client, collected_on in rows.iterator(chunk_size=5000):
        yield {
            "resourceType": "Specimen",
            "id": str(external_id),
            "meta": codes.CLIENT_META,
            "type": URINE,
            "subject": ref("Patient", client),
            "collection": {"collectedDateTime": collected_on},
        }


def count_specimens(scope: Scope) -> int:
    return _samples(scope).count()


def _report(sample, client, collected_on, analytes: list[str]) -> dict:
    resource = {
        "resourceType": "DiagnosticReport",
        "id": str(sample),
        "meta": codes.CLIENT_META,
        "status": "final",
        "category": codes.LABORATORY,
        "code": URINE_SCREEN,
        "subject": ref("Patient", client),
        "effectiveDateTime": collected_on,
        "specimen": [ref("Specimen", sample)],
    }
    if analytes:
        resource["result"] = [ref("Observation", analyte_id(sample, a)) for a in analytes]
    return resource


def diagnostic_reports(scope: Scope) -> Iterator[dict]:
    # One row per result (a sample without results gives one row with no analyte), in
    # sample order: each sample's rows are consecutive and make one report.
    rows = (
        _samples(scope)
        .order_by("pk", "results__analyte")
        .values_list("external_id", "client__external_id", "collected_on", "results__analyte")
    )
    current, client, collected_on, analytes = None, None, None, []
    for sample, sample_client, day, analyte in rows.iterator(chunk_size=5000):
        if sample != current:
            if current is not None:
                yield _report(current, client, collected_on, analytes)
            current, client, collected_on, analytes = sample, sample_client, day, []
        if analyte:
            analytes.append(analyte)
    if current is not None:
        yield _report(current, client, collected_on, analytes)


def count_diagnostic_reports(scope: Scope) -> int:
    return _samples(scope).count()


def _results(scope: Scope):
    results = scope.records(UrineResult.objects.all())
    if scope.since:
        results = results.filter(sample__collected_on__gte=scope.since)
    return results


def _tests(scope: Scope):
    tests = scope.records(InfectionTest.objects.all())
    if scope.since:
        tests = tests.filter(tested_on__gte=scope.since)
    return tests


_URINE_CODES = {
    analyte: codes.concept(codes.URINE_LOINC.get(analyte), codes.LOINC, text)
    for analyte, text in codes.URINE_TEXT.items()
}
_TEST_CODES = {
    test: codes.concept(codes.TEST_LOINC.get(test), codes.LOINC, text)
    for test, text in codes.TEST_TEXT.items()
}


def observations(scope: Scope) -> Iterator[dict]:
    rows = (
        _results(scope)
        .order_by("sample_id", "analyte")
        .values_list(
            "sample__external_id",
            "sample__client__external_id",
            "sample__collected_on",
            "analyte",
            "result",
        )
    )
    for sample, client, collected_on, analyte, result in rows.iterator(chunk_size=5000):
        yield {
            "resourceType": "Observation",
            "id": analyte_id(sample, analyte),
            "meta": codes.CLIENT_META,
            "status": "final",
            "category": codes.LABORATORY,
            "code": _URINE_CODES.get(analyte) or {"text": analyte},
            "subject": ref("Patient", client),
            "effectiveDateTime": collected_on,
            "specimen": ref("Specimen", sample),
            "valueCodeableConcept": codes.result_value(result),
            "interpretation": codes.interpretation(result),
        }
    rows = (
        _tests(scope)
        .order_by("pk")
        .values_list("external_id", "client__external_id", "tested_on", "test", "result")
    )
    for external_id, client, tested_on, test, result in rows.iterator(chunk_size=5000):
        yield {
            "resourceType": "Observation",
            "id": str(external_id),
            "meta": codes.HIV_META if test == "hiv" else codes.CLIENT_META,
            "status": "final",
            "category": codes.LABORATORY,
            "code": _TEST_CODES.get(test) or {"text": test},
            "subject": ref("Patient", client),
            "effectiveDateTime": tested_on,
            "valueCodeableConcept": codes.result_value(result),
            "interpretation": codes.interpretation(result),
        }


def count_observations(scope: Scope) -> int:
    return _results(scope).count() + _tests(scope).count()
