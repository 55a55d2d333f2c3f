"""Fair eligibility tiers, over random histories and random standards.

1. For a fixed record, the days allowed never fall as the day of treatment rises
   (`rules.decide`, the definition). "Fixed" means the same doses and samples in every
   window the tiers read: the client's events are fixed relative to the evaluation day, and
   only the enrolment moves earlier, never past the point where a window reached at the
   later day would be cut at the earlier one (a window cut at enrolment holds fewer days,
   which is another record).
2. The three engines agree on every client of every population: per client through the ORM
   (`queries.history` + `rules.decide`), the SQL list on the clinic's database
   (`nightly`/`listsql`) and DuckDB over Parquet (`duck`) — the days allowed, decided in SQL
   by the last two, and every check with its evidence.

The standards are the three shipped profiles and random ones that pass the standard's own
validation (1 to 4 tiers, any windows), so the SQL form of "the highest tier reached whose
criteria pass" is held to the rule beyond the shapes we ship.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.dosing.models import Dose
from pingan.labs.models import UrineResult, UrineSample
from pingan.lockbox.models import Box
from pingan.registry.models import Client, Consent, Episode
from pingan.takehome import duck, nightly, queries, rules
from pingan.takehome.models import RecordCheck, TakeHomeRequest
from pingan.takehome.standard import ADMINISTRATIVE, parse, profile_rules

D = date(2026, 6, 1)
SPAN = 800  # days of history before D
ON_POSTGRESQL = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
# Each engine example writes a population and runs every engine on it: ~0.2 s on SQLite
# (the test database is a file), less on PostgreSQL.
ENGINE_EXAMPLES = 100 if ON_POSTGRESQL else 200
PINGAN = profile_rules("pingan")

# Days of treatment where something changes in the shipped profiles, and either side.
EDGES = [e + k for e in (0, 15, 30, 31, 90, 180, 270, 365, 730) for k in (-1, 0, 1) if e + k >= 0]
# Days back where a positive sample meets the edge of a shipped window.
WINDOW_EDGES = [w + k for w in (30, 60, 90, 180) for k in (-1, 0, 1)]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# Standards ---------------------------------------------------------------------------------


@st.composite
def random_standard(draw) -> rules.Rules:
    """A standard with 1–4 tiers that the validation accepts: more days start later and ask
    at least as much (adherence, time without a positive, negative run, the negative)."""
    k = draw(st.integers(1, 4))
    days = sorted(draw(st.lists(st.integers(1, 31), min_size=k, max_size=k, unique=True)))
    starts = sorted(draw(st.lists(st.integers(0, 500), min_size=k, max_size=k, unique=True)))
    adherence = draw(st.integers(50, 95))
    positive_free = draw(st.sampled_from([0, 7, 30, 45]))
    run = draw(st.integers(0, 2))
    negative = draw(st.booleans())
    tiers = []
    for i in range(k):
        if i:
            adherence = min(100, adherence + draw(st.integers(0, 5)))
            positive_free += draw(st.sampled_from([0, 0, 30, 60, 90]))
            run += draw(st.integers(0, 3))
            # Dropping the negative sample is allowed only for a negative run.
            negative = negative if run == 0 else draw(st.booleans())
        tiers.append(
            {
                "days": days[i],
                "from_day": starts[i],
                "adherence_window": draw(st.sampled_from([7, 30, 45, 60, 90, 120])),
                "adherence_min": adherence,
                "positive_free_days": positive_free,
                "min_negative_run": run,
                "needs_one_negative_in_window": negative,
            }
        )
    document = {
        "tiers": tiers,
        "administrative": ["police_record_check", "lockbox_issued", "consent_police_record_check"],
        "closed_days": {"max_days": 0},
    }
    return parse("pingan", document)


standards = st.one_of(
    st.sampled_from(["pingan", "us-2024", "us-2001"]).map(profile_rules), random_standard()
)


# Records -------------------------------------------------------------------------------------


@st.composite
def records(draw, dose_span: int = SPAN) -> dict:
    """A client's events, as days back from D (1 = the day before): the days with a dose
    (in the last `dose_span` days) and the urine samples, positive, negative or with no
    opioid result at all."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    attendance = draw(st.sampled_from([1.0, 1.0, 0.97, 0.95, 0.92, 0.9, 0.85, 0.8, 0.5, 0.0]))
    missed = set()
    for start, length in draw(
        st.lists(st.tuples(st.integers(1, SPAN), st.integers(1, 14)), max_size=2)
    ):
        missed.update(range(start, start + length))  # a missed week, or two
    doses = {k for k in range(-3, dose_span + 1) if k not in missed and rng.random() < attendance}
    every = draw(st.integers(3, 30))
    rate = draw(st.sampled_from([0.0, 0.0, 0.03, 0.2]))
    samples = {}
    for k in range(rng.randint(-3, every), SPAN + 1, every):
        samples[k] = None if rng.random() < 0.05 else rng.random() < rate
    for k in draw(
        st.lists(st.one_of(st.integers(1, SPAN), st.sampled_from(WINDOW_EDGES)), max_size=3)
    ):
        samples[k] = True
    return {"doses": doses, "samples": samples}


def history(record: dict, day_of_treatment: int) -> rules.History:
    samples = tuple(
        sorted(
            (D - timedelta(days=k), pos) for k, pos in record["samples"].items() if pos is not None
        )
    )
    return rules.History(
        code="PA-1",
        enrolled_on=D - timedelta(days=day_of_treatment),
        dose_days=frozenset(D - timedelta(days=k) for k in record["doses"]),
        samples=samples,
    )


def lookback(rules_: rules.Rules, day_of_treatment: int) -> int:
    """How far back the tiers reached on that day read: the longest window among them."""
    return max(
        (
            max(t.adherence_window, t.positive_free_days)
            for t in rules_.tiers
            if t.from_day <= day_of_treatment
        ),
        default=0,
    )


@st.composite
def days_of_treatment(draw, rules_: rules.Rules) -> tuple[int, int]:
    """Two days of treatment, earlier ≤ later, with the record the same for both."""
    starts = [t.from_day + k for t in rules_.tiers for k in (-1, 0, 1) if t.from_day + k >= 0]
    later = draw(st.one_of(st.integers(0, SPAN), st.sampled_from(EDGES + starts)))
    earliest = min(lookback(rules_, later), later)
    earlier = draw(
        st.one_of(
            st.integers(earliest, later),
            st.sampled_from([d for d in EDGES + starts if earliest <= d <= later] or [later]),
        )
    )
    return earlier, later


@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_allowed_days_never_fall_as_the_day_of_treatment_rises(data):
    rules_ = data.draw(standards, label="standard")
    record = data.draw(records(), label="record")
    earlier, later = data.draw(days_of_treatment(rules_), label="days of treatment")
    before = rules.evaluate(history(record, earlier), rules_, D)
    after = rules.evaluate(history(record, later), rules_, D)
    assert after.allowed_days >= before.allowed_days, (before.not_met, after.not_met)
    # Whatever the days, they are those of the highest tier tried and passed, and every
    # tier above it that was reached is named as failed.
    for decision in (before, after):
        tried = [c for c in decision.checks if c.kind == "tier"]
        passed = [c for c in tried if c.passed]
        assert len(passed) <= 1 and (not passed or passed[0] is tried[-1])
        assert decision.allowed_days == (int(passed[0].name[5:-1]) if passed else 0)
        reached = [t for t in rules_.tiers if t.from_day <= decision.day_of_treatment]
        assert [c.name for c in tried] == [
            f"tier_{t.days}d" for t in reversed(reached) if t.days >= decision.allowed_days
        ]


# The three engines -------------------------------------------------------------------------


# Doses older than the longest window before the earlier evaluation day count for nothing:
# leaving them out keeps the population small (days of treatment still reach 800).
DOSE_SPAN = 60 + 120 + 5

clients = st.fixed_dictionaries(
    {
        "record": records(DOSE_SPAN),
        "day_of_treatment": st.one_of(st.integers(0, SPAN - 20), st.sampled_from(EDGES)),
        "break_at": st.one_of(st.none(), st.integers(1, 400)),  # discharged, then re-enrolled
        "discharge_back": st.one_of(st.none(), st.integers(-5, 60)),
        "two_analytes": st.booleans(),
        "admin": st.tuples(st.booleans(), st.booleans(), st.booleans()),
    }
)


def build(specs: list[dict], officer) -> dict:
    """Write the population to the database; return the same data as Parquet columns."""
    tables = {t: [] for t in duck.TABLES}
    standard = None
    for i, spec in enumerate(specs):
        code = f"PA-{i:05d}"
        client = Client.objects.create(code=code, alias=f"A{i}", sex="M", birth_year=1980)
        first = D - timedelta(days=spec["day_of_treatment"])
        tables["clients"].append((code, first))
        episodes, start = [], first
        if spec["break_at"] and spec["break_at"] + 10 < spec["day_of_treatment"]:
            left = first + timedelta(days=spec["break_at"])
            back = left + timedelta(days=1 + spec["break_at"] % 9)
            episodes.append(Episode(client=client, enrolled_on=first, discharged_on=left))
            tables["reenrolments"].append((code, left, back))
            start = back
        end = None
        if spec["discharge_back"] is not None:
            end = max(start, D - timedelta(days=spec["discharge_back"]))
            tables["discharges"].append((code, end))
        episodes.append(Episode(client=client, enrolled_on=start, discharged_on=end))
        Episode.objects.bulk_create(episodes)
        record = spec["record"]
        doses = sorted(d for k in record["doses"] if (d := D - timedelta(days=k)) >= first)
        Dose.objects.bulk_create(
            Dose(
                client=client,
                date=d,
                mg=60,
                mg_in_clinic=60,
                strength_mg_per_ml=1,
                volume_ml=60,
                given_at=f"{d.isoformat()}T08:00:00+08:00",
            )
            for d in doses
        )
        tables["doses"].extend((code, d) for d in doses)
        collected = []
        for k, positive in sorted(record["samples"].items(), reverse=True):
            day = D - timedelta(days=k)
            if day < first:
                continue
            results = [("methadone", "positive")]
            if positive is not None:
                analyte = ("opiates", "morphine")[k % 2]
                results.append((analyte, "positive" if positive else "negative"))
                if spec["two_analytes"]:  # the other one negative: the sample is as above
                    results.append(({"opiates": "morphine"}.get(analyte, "opiates"), "negative"))
            collected.append((day, results))
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
            standard = standard or queries.standard_in_force(D)
            req = TakeHomeRequest.objects.create(
                client=client,
                kind="regular",
                days_requested=1,
                standard=standard,
                eligibility={},
                requested_on=first,
            )
            RecordCheck.objects.create(
                request=req, client=client, officer=officer, checked_on=first, passed=i % 4 != 3
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
        arrays = [
            pa.array(
                [r[j] for r in rows],
                type=pa.date32() if "date" in n or n.endswith("_on") else pa.string(),
            )
            for j, n in enumerate(names)
        ]
        pq.write_table(pa.Table.from_arrays(arrays, names=list(names)), folder / f"{table}.parquet")


def without_admin(decision: dict) -> dict:
    """What Parquet can know: no record checks, boxes or consents."""
    checks = [c for c in decision["checks"] if c["name"] not in ADMINISTRATIVE]
    return {"client": decision["client"], "allowed": decision["allowed_days"], "checks": checks}


@pytest.mark.django_db
@settings(
    max_examples=ENGINE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(clients, min_size=1, max_size=4),
    standard=standards,
    earlier=st.integers(1, 60),
)
def test_the_three_engines_agree(specs, standard, earlier, users, tmp_path_factory):
    with transaction.atomic():
        tables = build(specs, users["police"])
        folder = tmp_path_factory.mktemp("parquet")
        write_parquet(tables, folder)
        con = duck.connect(folder, threads=1)
        try:
            # The drawn standard on D, the shipped one on an earlier day.
            for day, rules_ in ((D, standard), (D - timedelta(days=earlier), PINGAN)):
                engines_agree(con, rules_, day)
        finally:
            con.close()
        transaction.set_rollback(True)


def engines_agree(con, rules_: rules.Rules, day: date) -> None:
    in_treatment = Client.objects.filter(
        pk__in=queries.episodes_on(day).values("client_id")
    ).order_by("code")
    # Per client through the ORM (`queries.evaluate_client`, one history for both sides).
    per_client = [
        rules.evaluate(queries.history(c, day), rules_, day).as_dict() for c in in_treatment
    ]
    allowed = [d["allowed_days"] for d in per_client]
    listed = nightly.nightly_list(day, rules_)
    assert [row[-1] for row in listed.rows] == allowed  # decided in SQL
    assert [d.as_dict() for d in listed.decisions()] == per_client
    in_duck = duck.aggregates(con, rules_, day)
    assert [days for _, days in in_duck] == allowed  # decided in DuckDB's SQL
    decided = [rules.decide(agg, rules_, day).as_dict() for agg, _ in in_duck]
    assert [without_admin(d) for d in decided] == [without_admin(d) for d in per_client]
