"""Dose recording (docs/performance.md): p95 server time ≤ 30 ms on SQLite with 5,000 clients and
two years of history; ≥ 250 doses/s on PostgreSQL with 4 workers and zero double doses.

SQLite, on a copy of a cached dataset file (built once per scale and day):
- floor: a bare INSERT of one Dose row (autocommit), and `Dose.objects.create` without audit;
- the action `dosing.actions.record_dose` for N clients due today;
- the nurse's second click over HTTP (POST dosing:dose with HX-Request, through Django's test
  client, signed in as a nurse), the same N clients on a fresh day;
each repeated, with the percentiles' median over the repeats; then deliberate double
attempts (two threads, one client, one day), queries per dose, and a cProfile of the action.
Correctness is checked every run: one dose per client per day, every attempted dose recorded
once, each with one ledger line, the ledger balance equal to the sum of its lines, and the
audit chain intact.

PostgreSQL when PINGAN_BENCH_PG_URL is set: see `_dosing_pg` (a scratch database on that
server, dropped afterwards).

Run: `pingan bench dosing [--scale small|full]` (small = 200 clients x 60 days).
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import shutil
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from ._dosing_checks import check, double_attempts, verdict

SCALES = {
    "small": {"clients": 200, "days": 60, "measure": 60, "repeats": 3, "profile": 30,
              "doubles": 10, "pg_seconds": 5},
    "full": {"clients": 5_000, "days": 730, "measure": 1_000, "repeats": 3, "profile": 200,
             "doubles": 50, "pg_seconds": 10},
}  # fmt: skip
GOAL_P95_MS = 30.0
GOAL_PG_RATE = 250
DATASET_VERSION = 2  # 2: the product row carries the ledger's balance


@contextlib.contextmanager
def sqlite_file(path: Path):
    """Point the default (SQLite) connection at another file for the duration."""
    from django.db import connection

    connection.close()
    saved = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved


def dataset_file(scale: str, today: date) -> Path:
    """The cached dataset for this scale and day (built and migrated on first use)."""
    from django.conf import settings
    from django.core.management import call_command

    from . import _dosing_data

    spec = SCALES[scale]
    folder = Path(settings.DATA_DIR) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    cached = folder / f"dosing-{scale}-{today}-v{DATASET_VERSION}.sqlite3"
    if cached.exists():
        print(f"dataset: reusing {cached}")
        return cached
    building = cached.with_suffix(".building")
    for stale in folder.glob(building.name + "*"):
        stale.unlink()
    print(f"dataset: building {cached}")
    with sqlite_file(building):
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"  migrated in {time.perf_counter() - t0:.1f} s", flush=True)
        counts = _dosing_data.build(spec["clients"], spec["days"], today)
        print(f"  built: {counts}", flush=True)
    building.rename(cached)
    return cached


class Timings:
    """Server time (wall clock) and this thread's CPU time of each timed call, in ms. The
    CPU time tells the cost apart from waiting for a busy machine's cores."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @contextlib.contextmanager
    def one(self):
        wall, cpu = time.perf_counter(), time.thread_time()
        yield
        self.cpu.append((time.thread_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)


def _percentiles(t: Timings) -> dict[str, float]:
    q = statistics.quantiles(t.wall, n=100, method="inclusive")
    return {
        "p50": statistics.median(t.wall),
        "p95": q[94],
        "p99": q[98],
        "cpu_p50": statistics.median(t.cpu),
    }


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _clear_day(day: date) -> None:
    """Remove one day's doses and their ledger lines (the ledger's tail), between repeats,
    and set the product's balance back to the ledger's. Their audit entries stay: the chain
    is append-only."""
    from django.db import connection

    from pingan.dosing.stock import sync_balance

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM dosing_stockentry WHERE dose_id IN"
            " (SELECT id FROM dosing_dose WHERE date = %s)",
            [day],
        )
        cursor.execute("DELETE FROM dosing_dose WHERE date = %s", [day])
    sync_balance()


def _due_today(today: date) -> list:
    """Clients the queue shows as waiting and doseable today, in code order."""
    from pingan.dosing import queries

    return [row.client for row in queries.queue(today) if row.decision.can_dose]


def _floor_insert(clients, day: date, nurse_id: int) -> Timings:
    """One bare INSERT of a Dose row per client, each its own (autocommitted) transaction."""
    import uuid

    from django.db import connection
    from django.utils import timezone

    sql = (
        "INSERT INTO dosing_dose (external_id, created_at, created_by_id, client_id, date, kind,"
        " mg, drug, form, strength_mg_per_ml, volume_ml, mg_in_clinic, mg_taken_home, given_at,"
        " dispenser_id, prescription_id, note, capped) VALUES"
        " (%s, %s, %s, %s, %s, 'clinic', 60, 'methadone hydrochloride', 'oral solution', '1.00',"
        " '60.00', 60, 0, %s, %s, NULL, '', FALSE)"
    )
    out = Timings()
    for c in clients:
        now = timezone.now()
        with out.one(), connection.cursor() as cursor:
            cursor.execute(sql, [uuid.uuid4().hex, now, nurse_id, c.pk, day, now, nurse_id])
    return out


def _floor_orm(clients, day: date, nurse) -> Timings:
    from django.utils import timezone

    from pingan.audit.signals import capture_paused
    from pingan.dosing.models import Dose

    out = Timings()
    with capture_paused():
        for c in clients:
            with out.one():
                Dose.objects.create(
                    client=c, date=day, mg=60, mg_in_clinic=60, strength_mg_per_ml=1,
                    volume_ml=60, given_at=timezone.now(), dispenser=nurse, created_by=nurse,
                )  # fmt: skip
    return out


def _action(clients, nurse) -> Timings:
    from pingan.audit.context import Actor, acting_as
    from pingan.dosing import actions

    out = Timings()
    with acting_as(Actor(nurse.get_username(), "nurse", "127.0.0.1")):
        for c in clients:
            with out.one():
                result = actions.record_dose(c, nurse)
            if not result.ok:
                raise AssertionError(f"{c.code} refused: {result.message}")
    return out


def _http(clients, nurse) -> Timings:
    from django.test import Client as HttpClient
    from django.urls import reverse

    browser = HttpClient()
    browser.force_login(nurse, backend="django.contrib.auth.backends.ModelBackend")
    rows = [(c, reverse("dosing:dose", args=[c.external_id])) for c in clients]
    out = Timings()
    for c, url in rows:
        with out.one():
            response = browser.post(url, {}, HTTP_HX_REQUEST="true")
        if response.status_code != 200 or b'data-state="dosed"' not in response.content:
            raise AssertionError(f"{c.code}: HTTP {response.status_code}, no dose shown")
    return out


def _queries_per_dose(client, nurse) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _action([client], nurse)
    return len(captured)


def _profile(clients, nurse) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    _action(clients, nurse)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    return out.getvalue()


def measure(scale: str, today: date) -> tuple[list[dict], dict]:
    """Every SQLite measurement on the current default database (already loaded)."""
    from django.db import connection

    from pingan.registry.models import Client

    from ._dosing_data import staff

    spec = SCALES[scale]
    nurse = staff()["nurse"]
    t0 = time.perf_counter()
    due = _due_today(today)
    queue_s = time.perf_counter() - t0
    need = spec["measure"] + spec["profile"] + spec["doubles"] + 1
    if len(due) < need:
        raise RuntimeError(f"only {len(due)} clients due today; the run needs {need}")
    ids = [c.pk for c in due]
    pool = list(Client.objects.defer("photo").filter(pk__in=ids).order_by("code"))
    measured = pool[: spec["measure"]]
    spare = pool[spec["measure"] :]
    floor_day = today + timedelta(days=30)
    runs: dict[str, list] = {"insert": [], "orm": [], "action": [], "http": []}
    for r in range(spec["repeats"]):
        print(f"sqlite repeat {r + 1}/{spec['repeats']} ({len(measured)} clients)", flush=True)
        runs["insert"].append(_percentiles(_floor_insert(measured, floor_day, nurse.pk)))
        _clear_day(floor_day)
        runs["orm"].append(_percentiles(_floor_orm(measured, floor_day, nurse)))
        _clear_day(floor_day)
        runs["action"].append(_percentiles(_action(measured, nurse)))
        _clear_day(today)
        runs["http"].append(_percentiles(_http(measured, nurse)))
        if r + 1 < spec["repeats"]:
            _clear_day(today)
    doubles = double_attempts(spare[: spec["doubles"]], nurse)
    spare = spare[spec["doubles"] :]
    queries = _queries_per_dose(spare[0], nurse)
    profile = _profile(spare[1 : 1 + spec["profile"]], nurse)
    expected = len(measured) + doubles["recorded"] + 1 + len(spare[1 : 1 + spec["profile"]])
    checks = check(today, expected)
    floor = _median_of(runs["insert"])
    rows = []
    labels = {
        "insert": "floor: bare INSERT of a Dose row",
        "orm": "floor: Dose.objects.create, no audit",
        "action": "dosing.actions.record_dose",
        "http": "POST dosing:dose (test client, nurse)",
    }
    for key, label in labels.items():
        m = _median_of(runs[key])
        row = {
            "measure": label,
            "db": connection.vendor,
            "n": f"{len(measured)}x{spec['repeats']}",
            "p50_ms": round(m["p50"], 2),
            "p95_ms": round(m["p95"], 2),
            "p99_ms": round(m["p99"], 2),
            "cpu_p50_ms": round(m["cpu_p50"], 2),
            "p50_x_floor": f"{m['p50'] / floor['p50']:.0f}x",
        }
        if key in ("action", "http"):
            row["goal"] = f"p95 <= {GOAL_P95_MS:.0f} ms"
            row["met"] = "yes" if m["p95"] <= GOAL_P95_MS else "NO"
        rows.append(row)
    rows.append({"measure": "queue for today (set-based)", "db": connection.vendor,
                 "n": len(due), "p50_ms": round(queue_s * 1000, 1)})  # fmt: skip
    rows.append({"measure": "queries per record_dose", "db": connection.vendor, "n": queries})
    summary = {"doubles": doubles, "checks": checks, "profile": profile, "queue_s": queue_s}
    return rows, summary


def _sqlite_part(scale: str, today: date) -> tuple[list[dict], dict]:
    cached = dataset_file(scale, today)
    work = cached.with_name(cached.stem + "-run.sqlite3")
    for leftover in cached.parent.glob(work.name + "*"):
        leftover.unlink()
    shutil.copyfile(cached, work)
    try:
        with sqlite_file(work):
            return measure(scale, today)
    finally:
        for leftover in cached.parent.glob(work.name + "*"):
            leftover.unlink()


def _report(rows: list[dict], summary: dict, title: str) -> None:
    print(f"\n{title}")
    print("  double attempts:", summary["doubles"])
    print("  checks:", summary["checks"])
    print("  profile of record_dose (cumulative):")
    print(summary["profile"])


def measure_in_place(scale: str = "small") -> tuple[list[dict], dict]:
    """Load and measure on the current default database (the test suite's: migrated, empty)."""
    from django.utils import timezone

    from . import _dosing_data

    today = timezone.localdate()
    print(_dosing_data.build(SCALES[scale]["clients"], SCALES[scale]["days"], today))
    return measure(scale, today)


def run(scale: str = "small", in_place: bool = False, **_options) -> list[dict]:
    """`in_place`: measure on the current default database (the test suite's), which must be
    migrated and empty; otherwise on a SQLite file of the bench's own."""
    from django.utils import timezone

    from . import _dosing_pg

    today = timezone.localdate()
    if in_place:
        rows, summary = measure_in_place(scale)
    else:
        rows, summary = _sqlite_part(scale, today)
    _report(rows, summary, "SQLite")
    verdict(summary)
    rows.append({"measure": "double attempts (2 threads, same client)", "n": summary["doubles"]["attempts"],
                 "met": "yes" if summary["checks"]["double_doses"] == 0 else "NO"})  # fmt: skip
    url = os.environ.get("PINGAN_BENCH_PG_URL", "")
    if url and not in_place:
        rows.extend(_dosing_pg.run(url, SCALES[scale], today))
    elif not in_place:
        rows.append(
            {"measure": "postgresql, 4 workers", "met": "skipped: PINGAN_BENCH_PG_URL not set"}
        )
    return rows
