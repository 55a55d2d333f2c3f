"""The regional indicator dashboard (docs/performance.md): a region of centres in one
installation; goal: the first load of a month ≤ 500 ms server time for a regional officer
(20 centres, 10,000 clients, 2 years).

Data, in a SQLite file cached per scale and day (`<data dir>/bench/`, copied before each
run): full 20 centres × 500 clients × 730 days, small 3 × 30 × 90. The centres, clients,
episodes and prescriptions go through the ORM; the doses (85-99% attendance, one client in
five on take-home bottles after 90 days), two urine samples a month (opiates, morphine,
methadone) and yearly HIV / HCV tests are generated from a seeded model
(`_dosing_data.people` / `dose_days`) and written with `executemany`, a centre at a time.
Each centre has its product with the receipts the history needs (the dose ledger lines are
not written: the indicators do not read them), its nurse and a manager, members of it.

Measured through Django's test client as `pages` does (server time, templates as served):

- the regional officer (CDC, no centre: the pooled trend and the side-by-side table of
  every centre): (a) nothing computed (the cache cleared and the doses not yet counted, as
  in a server just started; one request at full scale: it takes minutes); (b) the
  background pass (`freshness.warm`, what `pingan serve` runs at start); (c) the first
  load after it — the goal's figure; (d) the first load after a dose recorded through the
  nurse's action at one centre; (e) the first load of this month (the months a dose
  reaches recompute); (f) a second load; (g) as in the server, whose background pass runs:
  after another dose, the first load of this month (the figures the pass left, marked),
  the pass that brings the dose in, and the load after it; then (h) the first load in a
  server just restarted (the figures its last pass kept in the database, marked);
- one centre's manager (a member of one centre: that centre's trend): nothing computed,
  first load after the pass, second load.

Run: `pingan bench region-dashboard [--scale small|full]` (the module is region_dashboard);
PINGAN_BENCH_CLIENTS_PER_CENTRE=N sets the clients per centre.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

from . import _dosing_data
from .dosing import sqlite_file
from .pages import _templates_as_served, _time

SCALES = {
    "small": {"centres": 3, "clients": 30, "days": 90, "runs": 3, "cold_runs": 2},
    "full": {"centres": 20, "clients": 500, "days": 730, "runs": 5, "cold_runs": 1},
}
GOAL_MS = 500.0
DATASET_VERSION = 1
SAMPLE_COLUMNS = (
    "id, external_id, created_at, created_by_id, client_id, collected_on, observed, scheduled"
)
RESULT_COLUMNS = "id, sample_id, analyte, result"
TEST_COLUMNS = "id, external_id, created_at, created_by_id, client_id, tested_on, test, result"


def _say(text: str) -> None:
    print(text, flush=True)


def _takehome(doses: list[tuple], enrolled: dict[int, date]) -> list[tuple]:
    """One client in five takes bottles home after 90 days in treatment (not on Mondays)."""
    out = []
    for row in doses:
        client_id, day = row[4], row[5]
        start = enrolled.get(client_id)
        if start is not None and client_id % 5 == 0:
            on = date.fromisoformat(day)
            if (on - start).days > 90 and on.weekday() != 0:
                row = (*row[:6], "takehome", *row[7:12], 0, row[7], *row[14:])
        out.append(row)
    return out


def _labs(population, ids, days: int, today: date, seed: int, first_ids: list[int]):
    """Urine samples every 14-16 days with their results, and a yearly HIV and HCV test,
    while each client is in treatment within the window."""
    rng = random.Random(seed)
    rand = rng.getrandbits
    start = today - timedelta(days=days)
    samples, results, tests = [], [], []
    for p, client_id in zip(population, ids, strict=True):
        first = max(p.enrolled_on, start)
        last = min(p.discharged_on or today, today - timedelta(days=1))
        positive = rng.choice((0.03, 0.1, 0.25, 0.5))
        on = first + timedelta(days=rng.randrange(0, 14))
        while on <= last:
            first_ids[0] += 1
            stamp = f"{on} 09:{rng.randrange(60):02d}:00"
            samples.append(
                (first_ids[0], f"{rand(128):032x}", stamp, None, client_id, on.isoformat(), True,
                 rng.random() < 0.5)
            )  # fmt: skip
            opiates = "positive" if rng.random() < positive else "negative"
            methadone = "positive" if rng.random() < 0.92 else "negative"
            for analyte, result in (
                ("opiates", opiates), ("morphine", opiates), ("methadone", methadone)
            ):  # fmt: skip
                first_ids[1] += 1
                results.append((first_ids[1], first_ids[0], analyte, result))
            on += timedelta(days=rng.randrange(14, 17))
        on = first + timedelta(days=rng.randrange(0, 60))
        while on <= last:
            for test, share in (("hiv", 0.04), ("hcv", 0.3)):
                first_ids[2] += 1
                tests.append(
                    (first_ids[2], f"{rand(128):032x}", f"{on} 10:00:00", None, client_id,
                     on.isoformat(), test, "positive" if rng.random() < share else "negative")
                )  # fmt: skip
            on += timedelta(days=365)
    return samples, results, tests


def _write(raw, table: str, columns: str, rows: list[tuple]) -> None:
    marks = ",".join("?" * len(columns.split(",")))
    raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def build(spec: dict, today: date, seed: int = 11) -> dict:
    """Fill the (freshly migrated) default database with the region; returns counts."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone

    from pingan.audit.log import record
    from pingan.audit.signals import capture_paused
    from pingan.dosing.models import Prescription
    from pingan.dosing.stock import product_of, sync_balance
    from pingan.region.models import Membership
    from pingan.registry.models import Client, Episode

    t0 = time.perf_counter()
    clinician = _dosing_data.staff()["clinician"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    raw = connection.connection
    raw.execute("PRAGMA cache_size=-800000")
    counts = {"clients": 0, "doses": 0, "urine_samples": 0, "urine_results": 0, "tests": 0}
    next_ids = {"dose": 0, "entry": 0, "labs": [0, 0, 0]}
    dose_sql = (
        f"INSERT INTO dosing_dose ({_dosing_data.DOSE_COLUMNS}) VALUES ({','.join('?' * 20)})"
    )
    entry_sql = (
        f"INSERT INTO dosing_stockentry ({_dosing_data.ENTRY_COLUMNS})"
        f" VALUES ({','.join('?' * 12)})"
    )
    with transaction.atomic(), capture_paused():
        centres = _dosing_data.region_centres(spec["centres"])
        for k, centre in enumerate(centres):
            population = _dosing_data.people(spec["clients"], spec["days"], today, seed + k)
            for p in population:
                p.code = f"C{k + 1:02d}-{p.code[2:]}"
            nurse = _dosing_data.centre_nurse(centre, first=k == 0)
            manager, created = User.objects.get_or_create(
                username=f"bench-manager-{centre.code.lower()}"
            )
            if created:
                manager.set_unusable_password()
                manager.save()
                manager.groups.add(Group.objects.get(name="manager"))
            Membership.objects.get_or_create(user=manager, centre=centre)
            product = product_of(centre)
            made = Client.objects.bulk_create(
                [Client(code=p.code, alias=f"A{p.code[-4:]}", sex="M", birth_year=1975,
                        centre=centre) for p in population],
                batch_size=2000,
            )  # fmt: skip
            ids = [c.pk for c in made]
            Episode.objects.bulk_create(
                [Episode(client_id=i, centre=centre, enrolled_on=p.enrolled_on,
                         discharged_on=p.discharged_on,
                         discharge_reason="dropped_out" if p.discharged_on else "")
                 for i, p in zip(ids, population, strict=True)],
                batch_size=2000,
            )  # fmt: skip
            gone_at = timezone.now()
            rx = Prescription.objects.bulk_create(
                [Prescription(client_id=i, mg=p.mg, start_on=p.enrolled_on, clinician=clinician,
                              reason="maintenance",
                              superseded_at=gone_at if p.discharged_on else None)
                 for i, p in zip(ids, population, strict=True)],
                batch_size=2000,
            )  # fmt: skip
            doses, entries = _dosing_data._rows(
                population, ids, [r.pk for r in rx], nurse.pk, product.pk, spec["days"], today,
                seed + k, centre.pk, (next_ids["dose"] + 1, 1),
            )  # fmt: skip
            enrolled = {i: p.enrolled_on for i, p in zip(ids, population, strict=True)}
            doses = _takehome(doses, enrolled)
            receipts = []
            for e in entries:
                if e[6] == "receipt":
                    next_ids["entry"] += 1
                    receipts.append(
                        (next_ids["entry"], *e[1:7], f"{e[7]}.00", f"{e[8]}.00", None, "", "")
                    )
            raw.executemany(dose_sql, doses)
            raw.executemany(entry_sql, receipts)
            next_ids["dose"] += len(doses)
            samples, results, tests = _labs(
                population, ids, spec["days"], today, seed * 101 + k, next_ids["labs"]
            )
            _write(raw, "labs_urinesample", SAMPLE_COLUMNS, samples)
            _write(raw, "labs_urineresult", RESULT_COLUMNS, results)
            _write(raw, "labs_infectiontest", TEST_COLUMNS, tests)
            counts["clients"] += len(ids)
            counts["doses"] += len(doses)
            counts["urine_samples"] += len(samples)
            counts["urine_results"] += len(results)
            counts["tests"] += len(tests)
            _say(
                f"  centre {k + 1}/{len(centres)} {centre.code}: {len(ids)} clients,"
                f" {len(doses):,} doses, {len(samples):,} urine samples"
                f" ({time.perf_counter() - t0:.0f} s)"
            )
        sync_balance()
        record("bench_load", clients=counts["clients"], doses=counts["doses"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("ANALYZE")
    return {"centres": len(centres), **counts, "build_s": round(time.perf_counter() - t0, 1)}


def _spec(scale: str) -> dict:
    """The scale's sizes; PINGAN_BENCH_CLIENTS_PER_CENTRE changes the clients per centre
    (the engines' time grows with the region's clients: see docs/performance.md)."""
    spec = dict(SCALES[scale])
    if os.environ.get("PINGAN_BENCH_CLIENTS_PER_CENTRE"):
        spec["clients"] = int(os.environ["PINGAN_BENCH_CLIENTS_PER_CENTRE"])
    return spec


def dataset_file(scale: str, today: date) -> Path:
    """The cached region for this scale and day (built and migrated on first use)."""
    from django.conf import settings
    from django.core.management import call_command

    folder = Path(settings.DATA_DIR) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    spec = _spec(scale)
    size = "" if spec == SCALES[scale] else f"-{spec['clients']}"
    cached = folder / f"region-dashboard-{scale}{size}-{today}-v{DATASET_VERSION}.sqlite3"
    if cached.exists():
        _say(f"dataset: reusing {cached}")
        return cached
    building = cached.with_suffix(".building")
    for stale in folder.glob(building.name + "*"):
        stale.unlink()
    _say(
        f"dataset: building {cached}: {spec['centres']} centres x {spec['clients']} clients"
        f" x {spec['days']} days"
    )
    with sqlite_file(building):
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        _say(f"  migrated in {time.perf_counter() - t0:.1f} s")
        _say(f"  built: {build(spec, today)}")
    building.rename(cached)
    return cached


# The dashboard's mark on figures shown while the background pass recomputes them.
MARK = b'id="indicators-behind"'


def _dose_one(centre) -> str:
    """One dose through the nurse's action at `centre`, for a client of it due today."""
    from pingan.dosing import actions
    from pingan.region.models import Membership
    from pingan.registry.models import Client

    nurse = Membership.objects.filter(centre=centre, user__groups__name="nurse").first().user
    for person in Client.objects.filter(
        centre=centre, episodes__discharged_on__isnull=True
    ).order_by("code")[:50]:
        if actions.record_dose(person, nurse).dose is not None:
            return person.code
    return ""


def measure(runs: int, cold_runs: int = 1) -> list[dict]:
    """Time the dashboard on the database in use, which holds the region."""
    with _templates_as_served():
        return _measure(runs, cold_runs)


def _measure(runs: int, cold_runs: int) -> list[dict]:
    from django.contrib.auth.models import Group, User
    from django.test import Client as Browser

    from pingan.core import clock
    from pingan.core.models import Centre
    from pingan.indicators import freshness
    from pingan.indicators.definitions import Period
    from pingan.indicators.models import KeptSet

    centres = list(Centre.objects.order_by("code"))
    cdc, _created = User.objects.get_or_create(username="bench-cdc")
    cdc.groups.add(Group.objects.get(name="cdc"))
    staff_centre = centres[len(centres) // 2]
    manager = User.objects.get(username=f"bench-manager-{staff_centre.code.lower()}")
    browsers = {}
    for name, user in (("cdc", cdc), ("manager", manager)):
        browsers[name] = Browser(raise_request_exception=False)
        browsers[name].force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    rows: list[dict] = []

    def row(who, page, median, worst, response, n, note=""):
        goal = page.startswith("first load")
        rows.append(
            {
                "who": who,
                "page": page,
                "median_ms": round(median, 1),
                "worst_ms": round(worst, 1),
                "n": n,
                "status": response.status_code,
                "goal": f"<= {GOAL_MS:.0f} ms" if goal else "",
                "met": ("yes" if median <= GOAL_MS else "NO") if goal else "",
                "note": note,
            }
        )

    def board(who: str, query: str = ""):
        return lambda: browsers[who].get(f"/indicators/{query}")

    region_who = f"cdc (region, {len(centres)} centres side by side)"
    staff_who = f"manager of {staff_centre.code} (its centre only)"

    def started() -> None:  # a server just started, never run before: nothing kept
        KeptSet.objects.all().delete()
        _restarted()

    _say(f"  nothing computed ({cold_runs} requests each) ...")
    cold, worst, r = _time(board("cdc"), cold_runs, before=started)
    row(region_who, "nothing computed nor kept (a new installation just started)", cold, worst, r, cold_runs,
        "its first start, before its first background pass")  # fmt: skip
    staff_cold, worst, r = _time(board("manager"), cold_runs, before=started)
    row(
        staff_who,
        "nothing computed nor kept (a new installation just started)",
        staff_cold,
        worst,
        r,
        cold_runs,
    )
    _say("  background pass ...")
    started()
    t0 = time.perf_counter()
    freshness.warm()
    warm_ms = (time.perf_counter() - t0) * 1000
    rows.append(
        {"who": "server", "page": "background pass (freshness.warm)",
         "median_ms": round(warm_ms, 1), "worst_ms": "", "n": 1, "status": "",
         "note": f"pooled and {len(centres)} centres: 12-month trend, this month, evaluation"}
    )  # fmt: skip
    _say("  loads after the pass ...")
    first, worst, r = _time(board("cdc"), 1)
    row(region_who, "first load after the background pass", first, worst, r, 1,
        f"cold / first = {cold / max(first, 1e-9):.0f}x")  # fmt: skip
    first, worst, r = _time(board("manager"), 1)
    row(staff_who, "first load after the background pass", first, worst, r, 1,
        f"cold / first = {staff_cold / max(first, 1e-9):.0f}x")  # fmt: skip
    dosed_at = centres[0]
    code = _dose_one(dosed_at)
    median, worst, r = _time(board("cdc"), 1)
    row(region_who, "first load after a dose", median, worst, r, 1,
        f"dose for {code} at {dosed_at.code} through the action (last month's figures:"
        " not reached by it)" if code else "no client due")  # fmt: skip
    this = Period.of(clock.today())
    median, worst, r = _time(board("cdc", f"?period={this}"), 1)
    row(region_who, f"first load of this month ({this}) after the dose, computed", median, worst, r,
        1, "the month the dose reaches recomputes, pooled and every centre's")  # fmt: skip
    median, worst, r = _time(board("cdc"), runs)
    row(region_who, "second load", median, worst, r, runs)
    median, worst, r = _time(board("manager"), runs)
    row(staff_who, "second load", median, worst, r, runs)
    rows += _in_the_server(board("cdc", f"?period={this}"), region_who, this, dosed_at, row)
    return rows


def _restarted() -> None:
    """A server process just started: nothing in its memory, the doses not yet counted."""
    from django.core.cache import cache

    from pingan.indicators import freshness

    cache.clear()
    freshness.forget_dose_counts()


def _in_the_server(this_page, who: str, this, dosed_at, row) -> list[dict]:
    """As in `pingan serve`, whose background pass runs (`freshness.warming`): after a
    dose, the first load of this month shows the figures the pass left, marked on the
    page, and wakes the pass; the pass (run here in this thread, as the server's thread
    would) brings the dose in, and the next load shows it unmarked."""
    from pingan.indicators import freshness

    _say("  as in the server, with its background pass ...")
    running = freshness.warming
    freshness.warming = lambda: True
    try:
        code = _dose_one(dosed_at)
        median, worst, r = _time(this_page, 1)
        marked = MARK in r.content
        row(who, f"first load of this month ({this}) after a dose, in the server", median,
            worst, r, 1, f"dose for {code}: the figures the pass left, "
            f"{'marked' if marked else 'NOT marked'} on the page; the pass woken")  # fmt: skip
        t0 = time.perf_counter()
        freshness.warm()
        pass_ms = (time.perf_counter() - t0) * 1000
        median, worst, r = _time(this_page, 1)
        shown = MARK not in r.content
        row(who, "load after that pass", median, worst, r, 1,
            f"the dose counted, page {'unmarked' if shown else 'STILL marked'}")  # fmt: skip
        # A new server process: nothing in memory, the sets its last pass kept in the
        # database (indicators.KeptSet).
        _restarted()
        median, worst, r = _time(this_page, 1)
        marked = MARK in r.content
        row(who, "first load in a server just restarted", median, worst, r, 1,
            f"the figures its last pass kept, {'marked' if marked else 'NOT marked'} on the"
            " page, until its first pass")  # fmt: skip
    finally:
        freshness.warming = running
    return [
        {"who": "server", "page": "background pass after the dose (the dose shows after it)",
         "median_ms": round(pass_ms, 1), "worst_ms": "", "n": 1, "status": "", "goal": "",
         "met": "", "note": "this month recomputed, pooled and every centre's"}
    ]  # fmt: skip


def _about(spec: dict, counts: str, built: str) -> dict:
    from django.db import connection

    return {
        "who": "-",
        "page": f"{spec['centres']} centres x {spec['clients']} clients x {spec['days']} days"
        f" ({counts}); {built}",
        **dict.fromkeys(("median_ms", "worst_ms", "n", "status", "goal", "met"), ""),
        "note": f"{connection.vendor}, Python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" load {os.getloadavg()[0]:.1f}",
    }


def _counts() -> str:
    from pingan.dosing.models import Dose
    from pingan.labs.models import UrineSample
    from pingan.registry.models import Client

    return (
        f"{Client.objects.count():,} clients, {Dose.objects.count():,} doses,"
        f" {UrineSample.objects.count():,} urine samples"
    )


def run(scale: str = "small", in_place: bool = False, **_options) -> list[dict]:
    """Build (or reuse) the region and time the dashboard on a copy of it; `in_place`:
    build in the database in use, which must be an empty test database (CI)."""
    from django.core.management import call_command
    from django.test.utils import setup_test_environment, teardown_test_environment

    from pingan.core import clock

    spec = _spec(scale)
    today = clock.today()
    if in_place:
        build(spec, today)
        return measure(spec["runs"], spec["cold_runs"])
    t0 = time.perf_counter()
    cached = dataset_file(scale, today)
    built = f"dataset ready in {time.perf_counter() - t0:.0f} s"
    work = cached.with_name(cached.stem + "-run.sqlite3")
    for leftover in cached.parent.glob(work.name + "*"):
        leftover.unlink()
    shutil.copyfile(cached, work)
    setup_test_environment()
    try:
        with sqlite_file(work):
            # A dataset cached before the latest migrations is brought up to them.
            call_command("migrate", verbosity=0, interactive=False)
            _say(f"measuring (median of {spec['runs']}), load {os.getloadavg()[0]:.1f} ...")
            about = _about(spec, _counts(), built)
            rows = measure(spec["runs"], spec["cold_runs"])
    finally:
        teardown_test_environment()
        for leftover in cached.parent.glob(work.name + "*"):
            leftover.unlink()
    return [about, *rows, {"who": "-", "page": f"load after: {os.getloadavg()[0]:.1f}"}]
