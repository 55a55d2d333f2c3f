"""Builders for dosing tests: a client in treatment with a prescription, and stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pingan.core import clock
from pingan.dosing import actions
from pingan.dosing.models import Dose, Prescription, Product
from pingan.registry.models import Client, Episode


def make_client(
    code: str,
    clinician,
    mg: int = 60,
    enrolled_days_ago: int = 30,
    last_dose_days_ago: int | None = 1,
    alias: str = "",
) -> Client:
    today = clock.today()
    client = Client.objects.create(
        code=code, alias=alias or f"alias {code}", sex="M", birth_year=1980
    )
    Episode.objects.create(client=client, enrolled_on=today - timedelta(days=enrolled_days_ago))
    Prescription.objects.create(
        client=client,
        mg=mg,
        start_on=today - timedelta(days=enrolled_days_ago),
        clinician=clinician,
        reason="induction complete",
    )
    if last_dose_days_ago is not None:
        past_dose(client, today - timedelta(days=last_dose_days_ago), mg)
    return client


def past_dose(client: Client, day: date, mg: int = 60, kind: str = "clinic") -> Dose:
    return Dose.objects.create(
        client=client,
        date=day,
        kind=kind,
        mg=mg,
        mg_in_clinic=mg if kind == "clinic" else 0,
        mg_taken_home=mg if kind == "takehome" else 0,
        strength_mg_per_ml=Decimal("1"),
        volume_ml=Decimal(mg),
        given_at=clock.now() - timedelta(days=(clock.today() - day).days),
    )


def stocked(ml: int, by) -> Product:
    product = actions.ensure_default_product()
    actions.receive(product, ml, "B-001", by)
    return product
