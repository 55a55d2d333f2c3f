"""Small builders for the take-home tests (a dose, a urine sample, the day they start on)."""

from __future__ import annotations

from datetime import datetime

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.registry.models import Client

# A Monday, no holiday near: 2026-06-01 10:00 in the centre's time zone.
MONDAY = datetime(2026, 6, 1, 10, 0)


def add_dose(client: Client, day) -> Dose:
    return Dose.objects.create(
        client=client,
        date=day,
        mg=60,
        mg_in_clinic=60,
        strength_mg_per_ml=1,
        volume_ml=60,
        given_at=clock.now(),
    )


def add_sample(client: Client, day, opiates: str) -> UrineSample:
    sample = UrineSample.objects.create(client=client, collected_on=day)
    UrineResult.objects.create(sample=sample, analyte="opiates", result=opiates)
    return sample
