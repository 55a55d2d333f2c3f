"""Ping An's records as HL7 FHIR R4 resources (docs/fhir.md has the mapping and the codes).

Each resource type has a source: a generator of resources as plain JSON-ready dicts,
streamed from the database a chunk at a time, and a count for the progress bar. The
export serialises the dicts directly; the `fhir.resources` models are used to validate
(`--validate`, and every resource of the demo in the tests), not to build, because building
a model per resource would cost the export many times its serialisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import care, labs, measures, medication, people
from .scope import Scope


@dataclass(frozen=True)
class Source:
    type: str
    rows: Callable[[Scope], Iterator[dict]]
    count: Callable[[Scope], int]
    client_level: bool = True  # False: aggregates and organisations, for any audience


SOURCES: tuple[Source, ...] = (
    Source("Organization", people.organizations, people.count_organizations, False),
    Source("Practitioner", people.practitioners, people.count_practitioners),
    Source("Patient", people.patients, people.count_patients),
    Source("EpisodeOfCare", people.episodes_of_care, people.count_episodes_of_care),
    Source("Consent", people.consents, people.count_consents),
    Source(
        "MedicationRequest", medication.medication_requests, medication.count_medication_requests
    ),
    Source(
        "MedicationAdministration",
        medication.medication_administrations,
        medication.count_medication_administrations,
    ),
    Source(
        "MedicationDispense", medication.medication_dispenses, medication.count_medication_dispenses
    ),
    Source("Specimen", labs.specimens, labs.count_specimens),
    Source("DiagnosticReport", labs.diagnostic_reports, labs.count_diagnostic_reports),
    Source("Observation", labs.observations, labs.count_observations),
    Source("ServiceRequest", care.service_requests, care.count_service_requests),
    Source("Task", care.tasks, care.count_tasks),
    Source("Encounter", care.encounters, care.count_encounters),
    Source("Flag", people.flags, people.count_flags),
    Source("Measure", measures.measures, measures.count_measures, False),
    Source("MeasureReport", measures.measure_reports, measures.count_measure_reports, False),
)
BY_TYPE: dict[str, Source] = {s.type: s for s in SOURCES}
TYPES: tuple[str, ...] = tuple(s.type for s in SOURCES)
AGGREGATE_TYPES: tuple[str, ...] = tuple(s.type for s in SOURCES if not s.client_level)

__all__ = ["AGGREGATE_TYPES", "BY_TYPE", "SOURCES", "TYPES", "Scope", "Source"]
