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
"""

from __future__ import annotations

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


def _scratch_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + SCRATCH))


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
        counts = _dosing_data.build(spec["clients"], spec["days"], today)
    with connection.cursor() as cursor:
        # Vacuum now, or autovacuum's first pass over the freshly loaded tables competes
        # with the timed run.
        cursor.execute("VACUUM ANALYZE")
    counts["load_s"] = round(time.perf_counter() - t0, 1)
    out.put((counts, [c.pk for c in _due_today(today)]))


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


def _work(url: str, number: int, ids: list[int], seconds: float, barrier, out) -> None:
    _setup(url)
    from django.contrib.auth.models import User
    from django.utils import timezone

    from pingan.audit.context import Actor, acting_as
    from pingan.dosing import actions, queries
    from pingan.registry.models import Client

    nurse = User.objects.get(username="bench-nurse")
    by_pk = Client.objects.defer("photo").in_bulk(ids)
    clients = [by_pk[i] for i in ids]
    tally = {"ok": 0, "already_dosed": 0, "other_refusal": 0, "errors": 0}
    latencies = []
    # Warm up outside the clock: the first statements of a fresh process load catalogs and
    # compile queries; a dose attempt on a client nobody else is given primes the rest.
    queries.fact_sheet(clients[0], timezone.localdate())
    queries.thresholds()
    queries.active_product()
    barrier.wait()
    started = time.perf_counter()
    with acting_as(Actor(nurse.get_username(), "nurse", f"worker-{number}")):
        for client in clients:
            if time.perf_counter() - started >= seconds:
                break
            t0 = time.perf_counter()
            try:
                result = actions.record_dose(client, nurse)
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
    tally["elapsed"] = time.perf_counter() - started
    tally["latencies"] = latencies
    out.put(tally)


def _check(url: str, today: date, expected: int, out) -> None:
    _setup(url)
    from ._dosing_checks import check

    out.put(check(today, expected))


def _in_process(ctx, target, *args):
    out = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, out))
    p.start()
    value = out.get()
    p.join()
    return value


def run(url: str, spec: dict, today: date, workers: int = WORKERS) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    scratch = _scratch_url(url)
    keep = os.environ.get("PINGAN_BENCH_PG_KEEP") == "1"
    if not keep:
        _admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    try:
        _admin(url, f"CREATE DATABASE {SCRATCH}")
    except Exception:  # noqa: BLE001  kept from the last run (PINGAN_BENCH_PG_KEEP=1)
        if not keep:
            raise
    try:
        print(f"postgresql: loading {spec['clients']:,} clients x {spec['days']} days", flush=True)
        counts, due = _in_process(ctx, _load, scratch, spec, today)
        print(f"  loaded: {counts}; {len(due):,} due today", flush=True)
        lists = plan(due, workers)
        attempts_planned = sum(len(x) for x in lists)
        out = ctx.Queue()
        barrier = ctx.Barrier(workers)
        procs = [
            ctx.Process(target=_work, args=(scratch, n, lists[n], spec["pg_seconds"], barrier, out))
            for n in range(workers)
        ]
        for p in procs:
            p.start()
        tallies = [out.get() for _ in procs]
        for p in procs:
            p.join()
        ok = sum(t["ok"] for t in tallies)
        wall = max(t["elapsed"] for t in tallies)
        latencies = [ms for t in tallies for ms in t["latencies"]]
        q = statistics.quantiles(latencies, n=100, method="inclusive")
        checks = _in_process(ctx, _check, scratch, today, ok)
    finally:
        if not keep:
            _admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    print("  workers:", [{k: v for k, v in t.items() if k != "latencies"} for t in tallies])
    print("  checks:", checks)
    rate = ok / wall
    double_attempts = sum(t["already_dosed"] for t in tallies)
    rows = [
        {
            "measure": f"postgresql, {workers} workers, record_dose",
            "db": "postgresql",
            "n": f"{ok} doses in {wall:.1f} s (of {attempts_planned} planned)",
            "p50_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(q[94], 2),
            "p99_ms": round(q[98], 2),
            "doses_per_s": round(rate, 1),
            "goal": f">= {GOAL_RATE} doses/s, 0 double doses",
            "met": "yes"
            if rate >= GOAL_RATE and checks["double_doses"] == 0 and checks["ledger_ok"]
            else "NO",
        },
        {
            "measure": "postgresql: refusals / errors / checks",
            "db": "postgresql",
            "n": f"already dosed {double_attempts}, other {sum(t['other_refusal'] for t in tallies)}"
            f", errors {sum(t['errors'] for t in tallies)}",
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
