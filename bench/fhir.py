"""FHIR bulk export at scale (`pingan fhir export`): resources per second and memory.

A centre of N clients with D days of history (daily doses, about a tenth of them take-home
bottles; a monthly urine screen of two analytes; a yearly HIV and HCV test) is loaded into a
throwaway database, then, in the same run:
- the export itself (`exchange.bulk.write`: every type, NDJSON files and manifest);
- the floor: the same rows of the same tables, fetched the same way (chunked, joined to the
  client's external id) and written as bare JSON lines with orjson, no mapping, no models;
- the `fhir.resources` models on a sample of doses (build, validate, serialise), extrapolated
  to the export's size: what the export would cost if it built a model per resource.
Memory is the process's resident size sampled while the export runs, given for each quarter
of the resources written: flat means the last quarter is no higher than the first.

Run: `pingan bench fhir [--scale small|medium|full]` (small = 200 clients x 60 days,
medium = 2,000 x 365, full = 10,000 x 730, about 7 million resources).
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

SCALES = {
    "small": {"clients": 200, "days": 60},
    "medium": {"clients": 2_000, "days": 365},
    "full": {"clients": 10_000, "days": 730},
}
TODAY = date(2026, 6, 1)
CHUNK = 50_000


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# Loading --------------------------------------------------------------------------------------


def _prep(value, vendor: str):
    """A Python value as the driver takes it for a raw insert (SQLite: Django's text forms)."""
    if vendor != "sqlite" or value is None:
        return value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


class Inserter:
    """Raw inserts into one model's table, a chunk at a time (memory stays flat): the
    columns given per row, every other column its model default."""

    def __init__(self, model, given: tuple[str, ...]):
        from django.db import connection

        self.vendor = connection.vendor
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields]
        self.given = given
        rest = [f for f in fields if f.attname not in given]
        self.columns = [*given, *(f.column for f in rest)]
        self.defaults = tuple(_prep(f.get_default(), self.vendor) for f in rest)
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *values) -> None:
        self.rows.append(tuple(_prep(v, self.vendor) for v in values) + self.defaults)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.table} ({quoted}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                connection.connection.executemany(
                    f"INSERT INTO {self.table} ({quoted}) VALUES ({marks})", self.rows
                )
        self.count += len(self.rows)
        self.rows = []


def build(clients: int, days: int, seed: int = 11) -> dict:
    """Fill the current (empty, migrated) database with the benchmark's centre."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from pingan.audit.signals import capture_paused
    from pingan.core.models import Centre
    from pingan.dosing.models import Dose, Prescription
    from pingan.labs.models import InfectionTest, UrineResult, UrineSample
    from pingan.registry.models import Client, Episode

    rng = random.Random(seed)
    start = TODAY - timedelta(days=days)
    t0 = time.perf_counter()
    tz = timezone.get_current_timezone()
    with transaction.atomic(), capture_paused():
        Centre.current()
        nurse, _ = User.objects.get_or_create(username="bench-nurse")
        people = Client.objects.bulk_create(
            [Client(code=f"FB{i:06d}", alias=f"A{i}", sex="MF"[i % 2], birth_year=1960 + i % 40)
             for i in range(clients)],
            batch_size=2000,
        )  # fmt: skip
        enrolled = {
            c.pk: start - timedelta(days=rng.randrange(1, 600))
            if rng.random() < 0.8
            else start + timedelta(days=rng.randrange(0, days))
            for c in people
        }
        Episode.objects.bulk_create(
            [Episode(client_id=pk, enrolled_on=day) for pk, day in enrolled.items()],
            batch_size=2000,
        )
        Prescription.objects.bulk_create(
            [Prescription(client_id=pk, mg=60, start_on=day, clinician=nurse, reason="bench")
             for pk, day in enrolled.items()],
            batch_size=2000,
        )  # fmt: skip
        doses = Inserter(
            Dose,
            ("id", "external_id", "created_at", "client_id", "date", "kind", "mg",
             "strength_mg_per_ml", "volume_ml", "mg_in_clinic", "mg_taken_home", "given_at",
             "dispenser_id"),
        )  # fmt: skip
        samples = Inserter(
            UrineSample, ("id", "external_id", "created_at", "client_id", "collected_on")
        )
        results = Inserter(UrineResult, ("id", "sample_id", "analyte", "result"))
        dose_id = sample_id = result_id = 0
        created = timezone.now()
        for c in people:
            takehome = rng.random() < 0.3  # Sundays at home
            day = max(enrolled[c.pk], start)
            while day < TODAY:
                if rng.random() < 0.9:
                    dose_id += 1
                    home = takehome and day.weekday() == 6
                    given = datetime.combine(day, clock_time(9, rng.randrange(60)), tz)
                    doses.add(
                        dose_id, uuid.uuid4(), created, c.pk, day, "takehome" if home else "clinic",
                        60, Decimal("1.00"), Decimal("60.00"), 0 if home else 60,
                        60 if home else 0, given, nurse.pk,
                    )  # fmt: skip
                if day.day == 15:
                    sample_id += 1
                    samples.add(sample_id, uuid.uuid4(), created, c.pk, day)
                    for analyte in ("opiates", "methadone"):
                        result_id += 1
                        positive = rng.random() < (0.08 if analyte == "opiates" else 0.9)
                        results.add(
                            result_id, sample_id, analyte, "positive" if positive else "negative"
                        )
                day += timedelta(days=1)
        for inserter in (doses, samples, results):
            inserter.flush()
        InfectionTest.objects.bulk_create(
            [InfectionTest(client_id=c.pk, tested_on=start + timedelta(days=rng.randrange(days)),
                           test=test, result="negative")
             for c in people for test in ("hiv", "hcv")],
            batch_size=2000,
        )  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Dose, UrineSample, UrineResult):
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                cursor.execute("ANALYZE")
    return {
        "clients": clients,
        "doses": doses.count,
        "urine_samples": samples.count,
        "build_s": round(time.perf_counter() - t0, 1),
    }


# The floor: the same rows, bare JSON -----------------------------------------------------------


def _floor_queries():
    from pingan.dosing.models import Dose, Prescription
    from pingan.labs.models import InfectionTest, UrineResult, UrineSample
    from pingan.registry.models import Client, Episode

    dose = ("external_id", "client__external_id", "date", "kind", "mg", "strength_mg_per_ml",
            "volume_ml", "given_at", "dispenser_id")  # fmt: skip
    return [
        Client.objects.values_list("pk", "external_id", "code", "sex", "birth_year"),
        Episode.objects.values_list(
            "external_id", "client__external_id", "enrolled_on", "discharged_on", "discharge_reason"
        ),
        Prescription.objects.values_list(
            "external_id", "client__external_id", "mg", "start_on", "created_at", "superseded_at"
        ),
        Dose.objects.exclude(kind="takehome").values_list(*dose),
        Dose.objects.filter(kind="takehome").values_list(*dose),
        UrineSample.objects.values_list("external_id", "client__external_id", "collected_on"),
        UrineSample.objects.values_list(
            "external_id", "client__external_id", "collected_on", "results__analyte"
        ),
        UrineResult.objects.values_list(
            "sample__external_id",
            "sample__client__external_id",
            "sample__collected_on",
            "analyte",
            "result",
        ),
        InfectionTest.objects.values_list(
            "external_id", "client__external_id", "tested_on", "test", "result"
        ),
    ]


def floor(folder: Path) -> int:
    import orjson

    def default(value):
        return str(value)  # Decimal and UUID: what a bare serialiser would do

    rows = 0
    for n, query in enumerate(_floor_queries()):
        with (folder / f"floor-{n}.ndjson").open("wb", buffering=1 << 20) as out:
            for row in query.order_by("pk").iterator(chunk_size=5000):
                out.write(orjson.dumps(row, default=default))
                out.write(b"\n")
                rows += 1
    return rows


# The export, with memory sampled ----------------------------------------------------------------


class Sampler:
    """The resident size every 20 ms, noted against how many resources were written."""

    def __init__(self) -> None:
        self.written = 0
        self.samples: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.samples.append((self.written, _rss_mb()))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def quarters(self, total: int) -> list[float]:
        out = []
        for q in range(4):
            low, high = total * q / 4, total * (q + 1) / 4
            found = [mb for n, mb in self.samples if low <= n <= high]
            out.append(round(max(found), 1) if found else 0.0)
        return out


def export(folder: Path) -> tuple[float, int, Sampler, float]:
    """Every record type (the measures apart: their cost is the indicator engine's)."""
    from pingan.exchange import bulk

    asked = bulk.ask()
    types = tuple(t for t in asked.types if t not in ("Measure", "MeasureReport"))
    request = bulk.ExportRequest(types, asked.centres)
    before = _rss_mb()
    with Sampler() as sampler:

        def progress(count: int) -> None:
            sampler.written += count

        t0 = time.perf_counter()
        written = bulk.write(request, folder / "export", progress=progress)
        seconds = time.perf_counter() - t0
    return seconds, written.total, sampler, before


def models_per_resource(folder: Path, sample: int = 3000) -> float:
    """Seconds per resource to build, validate and serialise a `fhir.resources` model, on
    doses already mapped by the export."""
    import orjson
    from fhir.resources.R4B.medicationadministration import MedicationAdministration

    lines = []
    with (folder / "export" / "MedicationAdministration.ndjson").open("rb") as f:
        for line in f:
            lines.append(orjson.loads(line))
            if len(lines) >= sample:
                break
    t0 = time.perf_counter()
    for resource in lines:
        MedicationAdministration.model_validate(resource).model_dump_json()
    return (time.perf_counter() - t0) / max(len(lines), 1)


def run(scale: str = "small", clients: int | None = None, days: int | None = None,
        in_place: bool = False) -> list[dict]:  # fmt: skip
    """`in_place`: use the current (empty test) database instead of a throwaway one."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from pingan.core import clock
    from pingan.exchange import bulk

    spec = SCALES[scale]
    clients, days = clients or spec["clients"], days or spec["days"]
    if not in_place:
        setup_test_environment()
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with clock.frozen(datetime.combine(TODAY, clock_time(8))):
            loaded = build(clients, days)
            with tempfile.TemporaryDirectory(prefix="pingan-bench-fhir-") as tmp:
                folder = Path(tmp)
                seconds, resources, sampler, before = export(folder)
                size = sum(p.stat().st_size for p in (folder / "export").iterdir())
                t0 = time.perf_counter()
                floor_rows = floor(folder)
                floor_s = time.perf_counter() - t0
                per_model = models_per_resource(folder)
                t0 = time.perf_counter()
                measures = bulk.write(
                    bulk.ExportRequest(("MeasureReport",), bulk.ask().centres), folder / "measures"
                ).total
                measures_s = time.perf_counter() - t0
    finally:
        if not in_place:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()
    quarters = sampler.quarters(resources)
    vendor = connection.vendor
    common = {"clients": clients, "days": days}
    return [
        {"step": f"{vendor}: load (outside the timing)", **common, "rows": loaded["doses"],
         "seconds": loaded["build_s"]},
        {"step": "export: FHIR NDJSON, every record type", **common, "resources": resources,
         "seconds": round(seconds, 2), "per_s": round(resources / seconds),
         "mb_written": round(size / 2**20), "ratio_to_floor": f"{seconds / floor_s:.2f}x",
         "goal": "≤ 3x the floor"},
        {"step": "floor: same rows, bare orjson lines", **common, "resources": floor_rows,
         "seconds": round(floor_s, 2), "per_s": round(floor_rows / floor_s)},
        {"step": "fhir.resources models (sample, extrapolated)", **common,
         "resources": resources, "seconds": round(per_model * resources, 1),
         "per_s": round(1 / per_model), "ratio_to_floor": f"{per_model * resources / floor_s:.1f}x"},
        {"step": "MeasureReport: every indicator and month (the engine's queries)", **common,
         "resources": measures, "seconds": round(measures_s, 2)},
        {"step": "memory during the export (RSS MB, per quarter)", **common,
         "before_mb": round(before, 1), "quarters_mb": " / ".join(str(q) for q in quarters),
         "growth_mb": round(max(quarters) - before, 1),
         "flat": "yes" if quarters[3] <= quarters[0] * 1.05 + 5 else "no"},
    ]  # fmt: skip
