"""Fixtures for referral tests: a client with a rich clinical record, and small builders."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pingan.core import clock
from pingan.dosing.models import Dose
from pingan.labs.models import InfectionTest, UrineResult, UrineSample
from pingan.registry.actions import IdentityInput, enrol_client, record_consent

RICH = {
    "alias": "Xiaoqiang-Alias",
    "name": "Qian Duoduo",
    "national_id": "11010519491231002X",
    "phone": "13912345678",
    "address": "Fuxing Road 88, Building 3",
    "mg": 137,
}


def add_dose(client, on: date, mg: int) -> Dose:
    return Dose.objects.create(
        client=client,
        date=on,
        mg=mg,
        mg_in_clinic=mg,
        strength_mg_per_ml=Decimal("1.00"),
        volume_ml=Decimal(mg),
        given_at=timezone.make_aware(datetime.combine(on, time(9, 0))),
    )


@pytest.fixture
def rich() -> dict:
    return dict(RICH)


@pytest.fixture
def dose():
    return add_dose


@pytest.fixture
def rich_client(users):
    """Enrolled 60 days ago with identity, daily 137 mg doses, an opiate-positive urine
    screen, an HIV-positive test and consent to police referral feedback."""
    today = clock.today()
    client = enrol_client(
        alias=RICH["alias"],
        sex="M",
        birth_year=1980,
        enrolled_on=today - timedelta(days=60),
        identity=IdentityInput(
            name=RICH["name"],
            national_id=RICH["national_id"],
            phone=RICH["phone"],
            address=RICH["address"],
        ),
        user=users["clinician"],
    )
    for back in range(1, 20):
        add_dose(client, today - timedelta(days=back), RICH["mg"])
    sample = UrineSample.objects.create(client=client, collected_on=today - timedelta(days=3))
    UrineResult.objects.create(sample=sample, analyte="opiates", result="positive")
    InfectionTest.objects.create(
        client=client, tested_on=today - timedelta(days=10), test="hiv", result="positive"
    )
    record_consent(
        client, "police_referral_feedback", today - timedelta(days=50), users["clinician"]
    )
    return client
