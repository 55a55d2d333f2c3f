"""The per-client engine (ORM), the set-based engine (SQL) and the DuckDB engine (Parquet)
agree on random synthetic populations, for all three profiles."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode
from pingan.takehome import duck, nightly, queries, rules
from pingan.takehome.models import RecordCheck, TakeHomeRequest
from pingan.takehome.standard import profile_rules

D = date(2026, 6, 1)
PROFILES = ("pingan", "us-2024", "us-2001")

client_spec = st.fixed_dictionaries(
    {
        "enrol_back": st.integers(0, 800),
        "break_at": st.one_of(st.none(), st.integers(1, 400)),  # discharged, then re-enrolled
        "discharge_back": st.one_of(st.none(), st.integers(-5, 60)),
        "attendance": st.sampled_from([1.0, 0.97, 0.9, 0.8, 0.5]),
        "test_every": st.integers(3, 30),
        "positive_rate": st.sampled_from([0.0, 0.02, 0.1, 0.4]),
        "seed": st.integers(0, 10_000),
        "admin": st.tuples(st.booleans(), st.booleans(), st.booleans()),
    }
)


def build(specs: list[dict], user) -> dict:
    """Write the population to the database and return the same data as Parquet columns."""
    tables = {t: [] for t in duck.TABLES}
    standard = queries.standard_in_force(D)
    for i, spec in enumerate(specs):
        rng = random.Random(spec["seed"])
        code = f"PA-{i:05d}"
        client = Client.objects.create(code=code, alias=f"A{i}", sex="M", birth_year=1980)
        first = D - timedelta(days=spec["enrol_back"])
        episodes = []
        tables["clients"].append((code, first))
        start = first
        if spec["break_at"] and spec["break_at"] + 10 < spec["enrol_back"]:
            left = first + timedelta(days=spec["break_at"])
            back = left + timedelta(days=rng.randint(1, 9))
            episodes.append(Episode(client=client, enrolled_on=first, discharged_on=left))
            tables["reenrolments"].append((code, left, back))
            start = back
        end = None
        if spec["discharge_back"] is not None:
            end = max(start, D - timedelta(days=spec["discharge_back"]))
            tables["discharges"].append((code, end))
        episodes.append(Episode(client=client, enrolled_on=start, discharged_on=end))
        Episode.objects.bulk_create(episodes)
        last = min(D + timedelta(days=3), end or D + timedelta(days=3))
        doses, day = [], first
        while day < last:
            if rng.random() < spec["attendance"]:
                doses.append(day)
            day += timedelta(days=1)
        Dose.objects.bulk_create(
            Dose(
                client=client,
                date=d,
                mg=60,
                mg_in_clinic=60,
                strength_mg_per_ml=1,
                volume_ml=60,
                given_at=D.isoformat() + "T08:00:00+08:00",
            )
            for d in doses
        )
        tables["doses"].extend((code, d) for d in doses)
        day, collected = first + timedelta(days=rng.randint(0, spec["test_every"])), []
        while day < last:
            positive = rng.random() < spec["positive_rate"]
            analyte = rng.choice(["opiates", "morphine"])
            collected.append(
                (
                    day,
                    [("methadone", "positive"), (analyte, "positive" if positive else "negative")],
                )
            )
            day += timedelta(days=spec["test_every"])
        samples = UrineSample.objects.bulk_create(
            UrineSample(client=client, collected_on=d) for d, _ in collected
        )
        UrineResult.objects.bulk_create(
            UrineResult(sample=s, analyte=a, result=r)
            for s, (_, results) in zip(samples, collected, strict=True)
            for a, r in results
        )
        tables["urine"].extend((code, d, a, r) for d, results in collected for a, r in results)
        consent, box, checked = spec["admin"]
        if consent:
            Consent.objects.create(client=client, purpose="police_record_check", given_on=first)
        if box:
            Box.objects.create(label=f"B{i}", client=client, secret="00" * 20, issued_on=first)
        if checked:
            req = TakeHomeRequest.objects.create(
                client=client,
                kind="regular",
                days_requested=1,
                standard=standard,
                eligibility={},
                requested_on=first,
            )
            RecordCheck.objects.create(
                request=req,
                client=client,
                officer=user,
                checked_on=first,
                passed=rng.random() < 0.8,
            )
    return tables


def write_parquet(tables: dict, folder) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {
        "clients": ("code", "enrolled_on"),
        "doses": ("client_code", "date"),
        "urine": ("client_code", "date", "analyte", "result"),
        "discharges": ("client_code", "date"),
        "reenrolments": ("client_code", "discharged_on", "reenrolled_on"),
    }
    for table, names in columns.items():
        rows = tables[table]
        data = {n: [r[j] for r in rows] for j, n in enumerate(names)}
        types = {n: pa.date32() if "date" in n or n.endswith("_on") else pa.string() for n in names}
        arrays = [pa.array(data[n], type=types[n]) for n in names]
        pq.write_table(pa.Table.from_arrays(arrays, names=list(names)), folder / f"{table}.parquet")


def strip(decision: dict) -> dict:
    """The decision without what Parquet cannot know (record checks, boxes, consents)."""
    from pingan.takehome.standard import ADMINISTRATIVE

    checks = [c for c in decision["checks"] if c["name"] not in ADMINISTRATIVE]
    return {"client": decision["client"], "allowed": decision["allowed_days"], "checks": checks}


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(client_spec, min_size=1, max_size=8))
def test_engines_agree(specs, users, tmp_path_factory):
    with transaction.atomic():
        tables = build(specs, users["police"])
        folder = tmp_path_factory.mktemp("parquet")
        write_parquet(tables, folder)
        con = duck.connect(folder)
        for profile in PROFILES:
            rules_ = profile_rules(profile)
            for day in (D, D - timedelta(days=45)):
                per_client = [d.as_dict() for d in queries.evaluate_per_client(day, rules_)]
                listed = nightly.nightly_list(day, rules_)
                set_based = [d.as_dict() for d in listed.decisions()]
                assert set_based == per_client
                assert [row[-1] for row in listed.rows] == [d["allowed_days"] for d in per_client]
                in_duck = duck.aggregates(con, rules_, day)
                decided = [rules.decide(agg, rules_, day) for agg, _ in in_duck]
                assert [strip(d.as_dict()) for d in decided] == [strip(d) for d in per_client]
                assert [allowed for _, allowed in in_duck] == [d.allowed_days for d in decided]
        transaction.set_rollback(True)
