"""The PostgreSQL half of the dose-recording benchmark: 4 worker processes, one database
connection each, recording doses for a fixed time, with deliberate double attempts.

A scratch database (`pingan_bench_dosing`) is created on the server PINGAN_BENCH_PG_URL
names, loaded, used and dropped: the database the URL names is never touched. With
PINGAN_BENCH_PG_KEEP=1 it is kept, and the next run reuses it (today's doses cleared). Each process
is started fresh (spawn) and runs `django.setup()` against the scratch database.

Who doses whom: clients are dealt to the workers in slots; in one slot of five every worker
shares its client with a partner (workers 0+1 and 2+3, then 1+2 and 3+0), at the same
position of both lists, so the pair presses "Confirm" for one client at nearly the same
instant. Exactly one of the two may record it.

The regional benchmark (bench/region.py) uses the same pieces with `centres` in the spec:
a region loaded into another scratch database, and each worker dosing every client as a
nurse of the client's centre, inside that centre's audit context (as a request there is).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import statistics
import time
from datetime import date
from urllib.parse import urlsplit, urlunsplit

SCRATCH = "pingan_bench_dosing"
WORKERS = 4
SHARE_EVERY = 5
GOAL_RATE = 250


def _scratch_url(url: str, name: str = SCRATCH) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as c:
        c.execute(sql)


def _setup(url: str) -> None:
    os.environ["PINGAN_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings.demo")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError(
            "the worker process was configured before it could select PostgreSQL; start the"
            " benchmark through `pingan bench dosing`"
        )


def _load(url: str, spec: dict, today: date, out) -> None:
    _setup(url)
    from django.core.management import call_command
    from django.db import connection

    from . import _dosing_data
    from .dosing import _clear_day, _due_today

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dosing_dose")
        kept = cursor.fetchone()[0]
    if kept:  # a kept scratch database: forget the last run's doses of today
        _clear_day(today)
        counts = {"reused": True, "doses": kept}
    else:
        counts = _dosing_data.build(
            spec["clients"], spec["days"], today, centres=spec.get("centres", 1)
        )
    with connection.cursor() as cursor:
        # Vacuum now, or autovacuum's first pass over the freshly loaded tables competes
        # with the timed run.
        cursor.execute("VACUUM ANALYZE")
    counts["load_s"] = round(time.perf_counter() - t0, 1)
    due = _due_today(today)
    out.put((counts, [c.pk for c in due], {c.pk: c.centre_id for c in due}))


def plan(ids: list[int], workers: int = WORKERS, seed: int = 11) -> list[list[int]]:
    """Deal the clients to the workers; every SHARE_EVERY-th slot is shared by pairs."""
    ids = list(ids)
    random.Random(seed).shuffle(ids)
    lists: list[list[int]] = [[] for _ in range(workers)]
    slot = 0
    while ids:
        if slot % SHARE_EVERY == SHARE_EVERY - 1:
            odd = (slot // SHARE_EVERY) % 2
            pairs = [(w, (w + 1) % workers) for w in range(odd, workers, 2)]
            for a, b in pairs:
                if ids:
                    shared = ids.pop()
                    lists[a].append(shared)
                    lists[b].append(shared)
        else:
            for w in range(workers):
                if ids:
                    lists[w].append(ids.pop())
        slot += 1
    return lists


def _nurses(per_centre: bool) -> dict:
    """Who doses: `bench-nurse` for every client, or (`per_centre`) each centre's nurse,
    keyed by centre id (None: any centre)."""
    from django.contrib.auth.models import User

    from pingan.region.models import Membership

    if not per_centre:
        return {None: User.objects.get(username="bench-nurse")}
    found = Membership.objects.filter(user__username__startswith="bench-nurse")
    return {m.centre_id: m.user for m in found.select_related("user", "centre")}


def _audit_centre(centre):
    """The audit context of a request at `centre`: its chain, where the log keeps one a
    centre; nothing to set before it did (and for the single-centre run)."""
    from pingan.audit import context

    in_centre = getattr(context, "in_centre", None)
    if centre is None or in_centre is None:
        return contextlib.nullcontext()
    return in_centre(centre)


def _server_cpu_s() -> float | None:
    """CPU seconds the server process of this connection has used (user + system), read
    from /proc: the server is on this machine (loopback). None where it cannot be read."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _work(
    url: str, number: int, ids: list[int], seconds: float, barrier, out, per_centre: bool = False
) -> None:
    _setup(url)
    from django.utils import timezone

    from pingan.audit.context import Actor, acting_as
    from pingan.dosing import actions, queries
    from pingan.registry.models import Client

    nurses = _nurses(per_centre)
    by_pk = Client.objects.defer("photo").select_related("centre").in_bulk(ids)
    clients = [by_pk[i] for i in ids]
    per_client = [
        (nurses[None], None) if None in nurses else (nurses[c.centre_id], c.centre) for c in clients
    ]
    tally = {"ok": 0, "already_dosed": 0, "other_refusal": 0, "errors": 0}
    latencies = []
    # Warm up outside the clock: the first statements of a fresh process load catalogs and
    # compile queries; a dose attempt on a client nobody else is given primes the rest.
    queries.fact_sheet(clients[0], timezone.localdate())
    queries.thresholds()
    queries.active_product()
    barrier.wait()
    server_cpu = _server_cpu_s()
    cpu = time.process_time()
    started = time.perf_counter()
    for client, (nurse, centre) in zip(clients, per_client, strict=True):
        if time.perf_counter() - started >= seconds:
            break
        t0 = time.perf_counter()
        try:
            with acting_as(Actor(nurse.get_username(), "nurse", f"worker-{number}")):
                with _audit_centre(centre):
                    if centre is None:
                        result = actions.record_dose(client, nurse)
                    else:
                        result = actions.record_dose(client, nurse, centre=centre)
        except Exception as error:  # noqa: BLE001  reported, never hidden
            tally["errors"] += 1
            tally.setdefault("error_samples", []).append(repr(error)[:200])
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        if result.ok:
            tally["ok"] += 1
        elif any(b.code == "already_dosed" for b in result.blocks):
            tally["already_dosed"] += 1
        else:
            tally["other_refusal"] += 1
            samples = tally.setdefault("refusal_samples", [])
            if len(samples) < 5:
                samples.append([b.code for b in result.blocks])
    tally["elapsed"] = time.perf_counter() - started
    # CPU per attempt, this process and its server process, outside the clock: what the
    # machine's cores must supply per dose, whatever waits for a lock.
    tally["cpu_s"] = time.process_time() - cpu
    after = _server_cpu_s()
    tally["server_cpu_s"] = after - server_cpu if None not in (after, server_cpu) else None
    tally["latencies"] = latencies
    out.put(tally)


def _check(url: str, today: date, expected: int, out, region: bool = False) -> None:
    _setup(url)
    from ._dosing_checks import check, region_check

    out.put(region_check(today, expected) if region else check(today, expected))


def _check_and_clear(url: str, today: date, expected: int, out) -> None:
    """The regional checks after a timed run, then today's doses cleared for the next one."""
    _setup(url)
    from ._dosing_checks import region_check
    from .dosing import _clear_day

    found = region_check(today, expected)
    _clear_day(today)
    out.put(found)


def _in_process(ctx, target, *args):
    out = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, out))
    p.start()
    value = out.get()
    p.join()
    return value


@contextlib.contextmanager
def scratch_database(url: str, name: str = SCRATCH):
    """A scratch database on the server `url` names, dropped afterwards (kept, and reused,
    with PINGAN_BENCH_PG_KEEP=1); yields its URL."""
    keep = os.environ.get("PINGAN_BENCH_PG_KEEP") == "1"
    if not keep:
        _admin(url, f"DROP DATABASE IF EXISTS {name}")
    try:
        _admin(url, f"CREATE DATABASE {name}")
    except Exception:  # noqa: BLE001  kept from the last run (PINGAN_BENCH_PG_KEEP=1)
        if not keep:
            raise
    try:
        yield _scratch_url(url, name)
    finally:
        if not keep:
            _admin(url, f"DROP DATABASE IF EXISTS {name}")


def load(ctx, scratch: str, spec: dict, today: date) -> tuple[dict, list[int], dict[int, int]]:
    """Migrate and load the scratch database in a process of its own: (counts, the ids of
    the clients due today, each one's centre id)."""
    return _in_process(ctx, _load, scratch, spec, today)


def timed(ctx, scratch: str, lists: list[list[int]], seconds: float, per_centre: bool = False):
    """One timed run: a process per list, started together; returns each worker's tally
    (ok, refusals, errors, elapsed s, latencies ms)."""
    out = ctx.Queue()
    barrier = ctx.Barrier(len(lists))
    procs = [
        ctx.Process(target=_work, args=(scratch, n, ids, seconds, barrier, out, per_centre))
        for n, ids in enumerate(lists)
    ]
    for p in procs:
        p.start()
    tallies = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return tallies


def figures(tallies: list[dict]) -> dict:
    """Doses/s (successful doses over the longest worker's time) and latency percentiles."""
    ok = sum(t["ok"] for t in tallies)
    wall = max(t["elapsed"] for t in tallies)
    latencies = [ms for t in tallies for ms in t["latencies"]]
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    server = [t.get("server_cpu_s") for t in tallies]
    return {
        "worker_cpu_ms": 1000 * sum(t.get("cpu_s", 0) for t in tallies) / len(latencies),
        "server_cpu_ms": 1000 * sum(server) / len(latencies) if None not in server else None,
        "ok": ok,
        "wall": wall,
        "rate": ok / wall,
        "p50": statistics.median(latencies),
        "p95": q[94],
        "p99": q[98],
        "already_dosed": sum(t["already_dosed"] for t in tallies),
        "other_refusal": sum(t["other_refusal"] for t in tallies),
        "errors": sum(t["errors"] for t in tallies),
    }


def run(url: str, spec: dict, today: date, workers: int = WORKERS) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    with scratch_database(url) as scratch:
        print(f"postgresql: loading {spec['clients']:,} clients x {spec['days']} days", flush=True)
        counts, due, _centres = load(ctx, scratch, spec, today)
        print(f"  loaded: {counts}; {len(due):,} due today", flush=True)
        lists = plan(due, workers)
        attempts_planned = sum(len(x) for x in lists)
        tallies = timed(ctx, scratch, lists, spec["pg_seconds"])
        f = figures(tallies)
        checks = _in_process(ctx, _check, scratch, today, f["ok"])
    print("  workers:", [{k: v for k, v in t.items() if k != "latencies"} for t in tallies])
    print("  checks:", checks)
    ok, wall, rate = f["ok"], f["wall"], f["rate"]
    rows = [
        {
            "measure": f"postgresql, {workers} workers, record_dose",
            "db": "postgresql",
            "n": f"{ok} doses in {wall:.1f} s (of {attempts_planned} planned)",
            "p50_ms": round(f["p50"], 2),
            "p95_ms": round(f["p95"], 2),
            "p99_ms": round(f["p99"], 2),
            "doses_per_s": round(rate, 1),
            "goal": f">= {GOAL_RATE} doses/s, 0 double doses",
            "met": "yes"
            if rate >= GOAL_RATE and checks["double_doses"] == 0 and checks["ledger_ok"]
            else "NO",
        },
        {
            "measure": "postgresql: refusals / errors / checks",
            "db": "postgresql",
            "n": f"already dosed {f['already_dosed']}, other {f['other_refusal']}"
            f", errors {f['errors']}",
            "met": f"double doses {checks['double_doses']}, ledger ok {checks['ledger_ok']},"
            f" today {checks['doses_today']}/{checks['expected_today']},"
            f" audit breaks {checks['audit_breaks']}",
        },
    ]
    problems = [t.get("error_samples") for t in tallies if t["errors"]]
    if checks["double_doses"] or not checks["ledger_ok"] or checks["audit_breaks"] or problems:
        raise AssertionError(f"postgresql invariants failed: {checks}; errors: {problems}")
    if checks["doses_today"] != checks["expected_today"]:
        raise AssertionError(f"postgresql: doses recorded do not match successes: {checks}")
    return rows
