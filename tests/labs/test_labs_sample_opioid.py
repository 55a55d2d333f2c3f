"""`UrineSample.opioid` is kept by the database from the results, whoever writes them."""

from datetime import date

import pytest

from pingan.labs.models import UrineResult, UrineSample
from pingan.registry.models import Client

pytestmark = pytest.mark.django_db


def outcome(sample: UrineSample) -> int | None:
    return UrineSample.objects.values_list("opioid", flat=True).get(pk=sample.pk)


def test_outcome_follows_inserts_updates_and_deletes():
    client = Client.objects.create(code="PA-OP1", alias="A", sex="M", birth_year=1980)
    sample = UrineSample.objects.create(client=client, collected_on=date(2026, 5, 1))
    assert outcome(sample) is None
    UrineResult.objects.create(sample=sample, analyte="methadone", result="positive")
    assert outcome(sample) is None  # no opioid analyte yet
    opiates = UrineResult.objects.create(sample=sample, analyte="opiates", result="negative")
    assert outcome(sample) == 0
    morphine = UrineResult.objects.create(sample=sample, analyte="morphine", result="positive")
    assert outcome(sample) == 1
    morphine.result = "negative"
    morphine.save()
    assert outcome(sample) == 0
    UrineResult.objects.filter(pk=opiates.pk).update(result="positive")
    assert outcome(sample) == 1
    UrineResult.objects.filter(analyte__in=["opiates", "morphine"]).delete()
    assert outcome(sample) is None


def test_moving_a_result_updates_both_samples():
    client = Client.objects.create(code="PA-OP2", alias="A", sex="M", birth_year=1980)
    first = UrineSample.objects.create(client=client, collected_on=date(2026, 5, 1))
    second = UrineSample.objects.create(client=client, collected_on=date(2026, 5, 2))
    result = UrineResult.objects.create(sample=first, analyte="opiates", result="positive")
    UrineResult.objects.filter(pk=result.pk).update(sample=second)
    assert (outcome(first), outcome(second)) == (None, 1)
