"""Every copy of the dose range is the one in `dosing.limits`: the database's check
constraints (frozen by migrations), the forms and the import of a legacy register."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Q

from pingan.dosing.forms import PrescribeForm, TaperForm
from pingan.dosing.limits import MAX_MG, MIN_MG
from pingan.dosing.models import Dose, Prescription
from pingan.imports import parse
from pingan.takehome.models import TakeHomeBottle

RANGE = Q(mg__gte=MIN_MG) & Q(mg__lte=MAX_MG)


@pytest.mark.parametrize(
    "model,name",
    [
        (Prescription, "prescription_mg_range"),
        (Dose, "dose_mg_range"),
        (TakeHomeBottle, "bottle_mg_range"),
    ],
)
def test_check_constraints_are_the_dose_range(model, name):
    (constraint,) = [c for c in model._meta.constraints if c.name == name]
    assert constraint.condition == RANGE


def test_forms_offer_the_dose_range():
    for field in (PrescribeForm().fields["mg"], TaperForm().fields["from_mg"]):
        assert (field.min_value, field.max_value) == (MIN_MG, MAX_MG)


@pytest.mark.parametrize(
    "mg,ok", [(MIN_MG, True), (MAX_MG, True), (MIN_MG - 1, False), (MAX_MG + 1, False)]
)
def test_the_import_accepts_exactly_the_dose_range(mg, ok):
    cells = {"client_code": "PA-1", "date": "2026-01-02", "mg": str(mg), "kind": "clinic"}
    row = parse._Row("doses.csv", 2, cells, date(2026, 6, 1))
    parsed = parse.dose_row(row)
    assert (parsed.mg == mg if ok else parsed.mg is None) and (not row.errors) == ok
