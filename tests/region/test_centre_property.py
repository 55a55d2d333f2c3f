"""A property of the region: whatever records three centres hold, every list, export and
indicator of centre A holds A's records only. Hypothesis draws the clients of each centre
(how many, when they enrolled, how many days they were dosed, their urine results); for each
draw, A's staff open their lists, the manager exports the month's indicators (CSV), the
FHIR export of centre A is written, and the month's indicators of A are computed: no client
code of B or C appears anywhere, and A's figures count A's clients only."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client as Browser
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing.models import Dose
from pingan.indicators import queries
from pingan.indicators.definitions import Period
from pingan.labs.models import UrineResult, UrineSample
from pingan.region.models import Membership
from pingan.registry.models import Client, Episode

pytestmark = pytest.mark.django_db

CODES = ("CA", "CB", "CC")
MONTH = Period(2026, 5)
TODAY = date(2026, 6, 3)
LISTS = (
    ("dosing:queue", "nurse"),
    ("registry:list", "nurse"),
    ("takehome:index", "clinician"),
    ("labs:schedule", "nurse"),
    ("services:dropouts", "nurse"),
    ("referrals:worklist", "clinician"),
    ("recalls:list", "clinician"),
)

person = st.tuples(
    st.integers(min_value=0, max_value=200),  # enrolled this many days before May 1
    st.integers(min_value=0, max_value=31),  # days dosed in May
    st.sampled_from(("none", "positive", "negative")),  # a urine sample in May
)
region_draw = st.tuples(*(st.lists(person, min_size=0, max_size=4) for _ in CODES))


def _build(draw) -> dict[str, list[str]]:
    """The drawn clients, each centre's codes by centre."""
    codes: dict[str, list[str]] = {}
    for code, people in zip(CODES, draw, strict=True):
        centre = Centre.objects.get(code=code)
        codes[code] = []
        for n, (enrolled_before, dosed, urine) in enumerate(people):
            c = Client.objects.create(
                centre=centre, code=f"{code}-{n:04d}", alias=f"A{code}{n}", sex="F", birth_year=1985
            )
            codes[code].append(c.code)
            Episode.objects.create(
                client=c, enrolled_on=date(2026, 5, 1) - timedelta(days=enrolled_before)
            )
            Dose.objects.bulk_create(
                Dose(
                    client=c,
                    date=date(2026, 5, 1) + timedelta(days=d),
                    mg=60,
                    mg_in_clinic=60,
                    strength_mg_per_ml=Decimal("1"),
                    volume_ml=Decimal(60),
                    given_at=clock.now(),
                )
                for d in range(dosed)
            )
            if urine != "none":
                sample = UrineSample.objects.create(client=c, collected_on=date(2026, 5, 20))
                UrineResult.objects.create(sample=sample, analyte="opiates", result=urine)
    return codes


@pytest.fixture
def staff(users, clock_at):
    clock_at(datetime(2026, 6, 3, 10, 0))
    for code in CODES:
        Centre.objects.create(code=code, name=f"Centre {code}")
    for role in ("nurse", "clinician", "manager"):
        Membership.objects.create(user=users[role], centre=Centre.objects.get(code="CA"))
    return users


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draw=region_draw)
def test_every_list_export_and_indicator_of_a_centre_holds_its_own_records(staff, tmp_path, draw):
    with transaction.atomic():
        codes = _build(draw)
        others = codes["CB"] + codes["CC"]
        browsers = {}
        for role in ("nurse", "clinician", "manager"):
            browsers[role] = Browser()
            browsers[role].force_login(staff[role])
        pages = {name: browsers[role].get(reverse(name)) for name, role in LISTS}
        assert {name: r.status_code for name, r in pages.items()} == {n: 200 for n, _ in LISTS}
        exported = browsers["manager"].get(reverse("indicators:export_csv"), {"period": str(MONTH)})
        assert exported.status_code == 200
        assert "-CA.csv" in exported["Content-Disposition"]
        folder = tmp_path / f"fhir-{len(list(tmp_path.iterdir()))}"
        call_command(
            "fhir",
            "export",
            "--out",
            str(folder),
            "--centre",
            "CA",
            "--no-progress",
            stdout=io.StringIO(),
        )
        texts = {name: r.content.decode() for name, r in pages.items()}
        texts["indicators CSV"] = exported.content.decode("utf-8-sig")
        texts |= {f.name: f.read_text(encoding="utf-8") for f in folder.glob("*.ndjson")}
        leaked = sorted({(where, c) for c in others for where, text in texts.items() if c in text})
        assert not leaked
        patients = (
            [
                json.loads(line)
                for line in (folder / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
                if line
            ]
            if (folder / "Patient.ndjson").exists()
            else []
        )
        assert len(patients) == len(codes["CA"])

        # A's figures are the region's as they would be if A were its only centre.
        ours = _figures(queries.month(MONTH, Centre.objects.get(code="CA").pk))
        _remove_clients_of("CB", "CC")
        alone = _figures(queries.month(MONTH))
        assert {i: v for i, v in ours.items() if v != alone[i]} == {}
        transaction.set_rollback(True)


def _figures(result_set) -> dict[str, tuple]:
    return {i: (r.numerator, r.denominator) for i, r in result_set.results.items()}


def _remove_clients_of(*codes: str) -> None:
    gone = Client.objects.filter(centre__code__in=codes)
    UrineResult.objects.filter(sample__client__in=gone).delete()
    UrineSample.objects.filter(client__in=gone).delete()
    Dose.objects.filter(client__in=gone).delete()
    Episode.objects.filter(client__in=gone).delete()
    gone.delete()
