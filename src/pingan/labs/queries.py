"""Read models for the labs screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pingan.registry.models import Client

from . import rules
from .models import InfectionTest, ScheduledUrineTest, UrineResult, UrineSample


@dataclass(frozen=True)
class SampleRow:
    sample: UrineSample
    cells: list[str]  # one per analyte in rules.ANALYTES order: "positive", "negative" or ""
    opioid: rules.OpioidDecision


def urine_history(client: Client, limit: int = 200) -> list[SampleRow]:
    """A row per sample, a column per analyte, newest first (two queries, not one per row)."""
    samples = list(
        UrineSample.objects.filter(client=client).order_by("-collected_on", "-pk")[:limit]
    )
    results: dict[int, dict[str, str]] = {s.pk: {} for s in samples}
    for sample_id, analyte, result in UrineResult.objects.filter(sample_id__in=results).values_list(
        "sample_id", "analyte", "result"
    ):
        results[sample_id][analyte] = result
    return [
        SampleRow(
            s,
            [results[s.pk].get(a, "") for a in rules.ANALYTES],
            rules.opioid_positive(results[s.pk]),
        )
        for s in samples
    ]


def test_history(client: Client) -> list[InfectionTest]:
    return list(InfectionTest.objects.filter(client=client).order_by("-tested_on", "-pk"))


@dataclass(frozen=True)
class DueRow:
    scheduled: ScheduledUrineTest
    samples_today: list[UrineSample]  # recorded but not yet linked: candidates for "done"


def due_on(day: date, centre_id: int | None = None) -> list[DueRow]:
    """Who is due a random sample on `day`, with the samples they already gave that day;
    with `centre_id`, only that centre's clients."""
    tests = ScheduledUrineTest.objects.filter(on=day)
    if centre_id is not None:
        tests = tests.filter(client__centre_id=centre_id)
    scheduled = list(tests.select_related("client", "sample").order_by("client__code"))
    open_ids = [s.client_id for s in scheduled if s.sample_id is None]
    by_client: dict[int, list[UrineSample]] = {}
    for sample in UrineSample.objects.filter(
        client_id__in=open_ids, collected_on=day, scheduledurinetest__isnull=True
    ).order_by("pk"):
        by_client.setdefault(sample.client_id, []).append(sample)
    return [DueRow(s, by_client.get(s.client_id, [])) for s in scheduled]
