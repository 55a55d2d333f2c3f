"""Regional dose throughput (docs/performance.md): one installation holding a region of
centres, each with its own clients, stock (product and ledger) and nurse; ≥ 500 doses/s
for the region and ≥ 250 doses/s for one centre, on PostgreSQL, with zero double doses.

On the server PINGAN_BENCH_PG_URL names, a scratch database (`pingan_bench_region`,
dropped afterwards; PINGAN_BENCH_PG_KEEP=1 keeps it) is loaded with the region
(`_dosing_data.build(..., centres=N)`: full 20 centres x 500 clients x 60 days of history,
small 3 x 40 x 30; the history is short so the load takes minutes, and a dose's facts need
only the last days). Then, with the same 4 worker processes of `_dosing_pg` (one
connection each, the server on loopback), two timed runs on the same data:

1. one centre: the first centre's clients due today only (the baseline);
2. the region: every centre's clients due today, in one shuffled list dealt to the
   workers, so each worker moves between centres from one dose to the next.

Each worker doses a client as a nurse of the client's centre (a member of it), passing the
centre to `dosing.actions.record_dose` inside that centre's audit context, as a request at
that centre does; one slot in five is shared by two workers (deliberate double attempts).
After each run: zero double doses, every dose with one ledger line and its audit entry,
every centre's ledger balance = the sum of its lines, every audit chain intact (`audit.log
.check`), and the doses debited from another centre's stock counted. Today's doses are
cleared between the runs (their audit entries stay: the chains are append-only).

Then, unless PINGAN_BENCH_REGION_HTTP=0, both runs again through the HTTP endpoint: `pingan
serve` on 127.0.0.1 and the same workers posting `dosing:dose` as each centre's signed-in
nurse (`_region_http`).

Run: `PINGAN_BENCH_PG_URL=postgres://… pingan bench region [--scale small|full]`.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from datetime import date

from . import _dosing_pg

SCALES = {
    "small": {"centres": 3, "clients": 40, "days": 30, "seconds": 3, "doubles": 2},
    "full": {"centres": 20, "clients": 500, "days": 60, "seconds": 10, "doubles": 2},
}
GOAL_REGION = 500
GOAL_CENTRE = 250
SCRATCH = "pingan_bench_region"


def _problems(checks: dict, f: dict, tallies: list[dict]) -> list[str]:
    """The broken invariants of one timed run (timing never fails a run)."""
    out = []
    if checks["double_doses"]:
        out.append(f"{checks['double_doses']} double doses")
    if checks["doses_today"] != checks["expected_today"]:
        out.append(f"{checks['doses_today']} doses today, {checks['expected_today']} recorded")
    if checks["doses_without_one_ledger_line"]:
        out.append(f"{checks['doses_without_one_ledger_line']} doses without one ledger line")
    if not checks["ledger_ok"]:
        out.append(f"ledgers not balanced: {checks['centres_with_ledger_broken']}")
    if checks["doses_without_audit_entry"]:
        out.append(f"{checks['doses_without_audit_entry']} doses without their audit entry")
    if checks["audit_breaks"]:
        out.append(f"audit: {checks['audit_breaks']} breaks")
    if checks["doses_from_another_centres_stock"]:
        out.append(
            f"{checks['doses_from_another_centres_stock']} doses from another centre's stock"
        )
    if f["errors"]:
        out.append(f"errors: {[t.get('error_samples') for t in tallies if t['errors']]}")
    return out


def _cpu(f: dict) -> str:
    """CPU ms per attempt, the worker's + its server process's, and the rate the machine's
    cores could give at that cost (nothing else running, no lock waited for)."""
    if f["server_cpu_ms"] is None:
        return f"{f['worker_cpu_ms']:.2f} + ?"
    if f.get("server") == "waitress":  # its PostgreSQL backends are not counted
        return f"{f['worker_cpu_ms']:.2f} + waitress {f['server_cpu_ms']:.2f} + ?"
    total = f["worker_cpu_ms"] + f["server_cpu_ms"]
    ceiling = (os.cpu_count() or 1) * 1000 / total
    return f"{f['worker_cpu_ms']:.2f} + {f['server_cpu_ms']:.2f} (cores: <= {ceiling:.0f}/s)"


def _row(label: str, f: dict, planned: int, goal: int, checks: dict) -> dict:
    return {
        "measure": label,
        "n": f"{f['ok']} doses in {f['wall']:.1f} s (of {planned} planned)",
        "doses_per_s": round(f["rate"], 1),
        "p50_ms": round(f["p50"], 2),
        "p95_ms": round(f["p95"], 2),
        "p99_ms": round(f["p99"], 2),
        "double_attempts": f["already_dosed"],
        "cpu_ms_per_attempt": _cpu(f),
        "goal": f">= {goal} doses/s",
        "met": "yes" if f["rate"] >= goal else "NO",
        "checks": "ok" if not checks["problems"] else "FAILED",
    }


def _phase(ctx, scratch, today, name, lists, centre_of, timer) -> dict:
    """One timed run and its checks (today's doses cleared after them)."""
    print(f"  timed run: {name}, {len({i for x in lists for i in x}):,} clients", flush=True)
    tallies = timer(lists)
    f = _dosing_pg.figures(tallies)
    if "http_server_cpu_s" in tallies[0]:
        f["server_cpu_ms"] = (
            1000
            * tallies[0]["http_server_cpu_s"]
            / len([ms for t in tallies for ms in t["latencies"]])
        )
        f["server"] = "waitress"
    checks = _dosing_pg._in_process(ctx, _dosing_pg._check_and_clear, scratch, today, f["ok"])
    checks["problems"] = _problems(checks, f, tallies)
    print("  workers:", [{k: v for k, v in t.items() if k != "latencies"} for t in tallies])
    print("  checks:", checks, flush=True)
    return {
        "figures": f,
        "checks": checks,
        "planned": sum(len(x) for x in lists),
        "centres": len({centre_of[i] for x in lists for i in x}),
    }


def run_pg(
    url: str, spec: dict, today: date, workers: int = _dosing_pg.WORKERS, http: bool = False
):
    """Load the region in a scratch database on `url`'s server, time one centre and then
    the region with the same workers (and, with `http`, both again through `pingan serve`);
    returns (rows, summary)."""
    from . import _region_http

    ctx = multiprocessing.get_context("spawn")
    phases = {}
    with _dosing_pg.scratch_database(url, SCRATCH) as scratch:
        print(
            f"postgresql: loading {spec['centres']} centres x {spec['clients']:,} clients"
            f" x {spec['days']} days",
            flush=True,
        )
        counts, due, centre_of = _dosing_pg.load(ctx, scratch, spec, today)
        first = min(centre_of.values())
        print(f"  loaded: {counts}; {len(due):,} due today", flush=True)
        plans = {
            "centre": _dosing_pg.plan([i for i in due if centre_of[i] == first], workers),
            "region": _dosing_pg.plan(due, workers),
        }

        def direct(lists):
            return _dosing_pg.timed(ctx, scratch, lists, spec["seconds"], per_centre=True)

        for name, lists in plans.items():
            phases[name] = _phase(ctx, scratch, today, name, lists, centre_of, direct)
        if http:
            with _region_http.serving(ctx, scratch, due) as served:

                def posted(lists):
                    return _region_http.timed(ctx, scratch, lists, spec["seconds"], served)

                for name, lists in plans.items():
                    phases[f"{name} (HTTP)"] = _phase(
                        ctx, scratch, today, f"{name} (HTTP)", lists, centre_of, posted
                    )
    rows = []
    for via in ("", " (HTTP)"):
        if f"centre{via}" not in phases:
            continue
        one, region = phases[f"centre{via}"], phases[f"region{via}"]
        how = ", POST dosing:dose via pingan serve" if via else ", record_dose"
        ratio = region["figures"]["rate"] / one["figures"]["rate"]
        rows += [
            _row(
                f"one centre, {workers} workers{how}",
                one["figures"],
                one["planned"],
                GOAL_CENTRE,
                one["checks"],
            ),
            _row(
                f"region ({region['centres']} centres), {workers} workers{how}",
                region["figures"],
                region["planned"],
                GOAL_REGION,
                region["checks"],
            ),
            {"measure": f"region / one centre{via}", "doses_per_s": f"{ratio:.2f}x"},
        ]
    for name, phase in phases.items():
        c = phase["checks"]
        rows.append(
            {
                "measure": f"checks after the {name} run",
                "n": f"double doses {c['double_doses']}, today {c['doses_today']}"
                f"/{c['expected_today']}, without one ledger line"
                f" {c['doses_without_one_ledger_line']}",
                "checks": f"ledgers ok {c['centres_with_ledger_ok']}"
                f"/{c['centres_with_ledger_ok'] + len(c['centres_with_ledger_broken'])},"
                f" audit chains {c['audit_chains']} with {c['audit_breaks']} breaks,"
                f" doses from another centre's stock {c['doses_from_another_centres_stock']}",
            }
        )
    ratio = phases["region"]["figures"]["rate"] / phases["centre"]["figures"]["rate"]
    summary = {"counts": counts, "phases": phases, "ratio": ratio}
    return rows, summary


def measure_in_place(scale: str = "small") -> dict:
    """Correctness on the current default database (the test suite's: migrated, empty), in
    this process: load the region, race two nurses of each centre for a few of its clients,
    dose every other client due today in one shuffled list across centres, each as a nurse
    of its centre in its audit context; then `region_check`."""
    from django.utils import timezone

    from pingan.audit.context import Actor, acting_as
    from pingan.dosing import actions
    from pingan.region.models import Membership

    from . import _dosing_data
    from ._dosing_checks import double_attempts, region_check
    from .dosing import _due_today

    spec = SCALES[scale]
    today = timezone.localdate()
    counts = _dosing_data.build(spec["clients"], spec["days"], today, centres=spec["centres"])
    nurses = {
        m.centre_id: m.user
        for m in Membership.objects.filter(user__username__startswith="bench-nurse")
    }
    due = _due_today(today)
    by_centre: dict[int, list] = {}
    for c in due:
        by_centre.setdefault(c.centre_id, []).append(c)
    doubles = {"attempts": 0, "recorded": 0, "refused_already_dosed": 0, "errors": 0}
    raced = set()
    for centre_id, clients in sorted(by_centre.items()):
        pair = clients[: spec["doubles"]]
        raced |= {c.pk for c in pair}
        found = double_attempts(pair, nurses[centre_id], pair[0].centre)
        doubles = {k: doubles[k] + found[k] for k in doubles}
    rest = [c for c in due if c.pk not in raced]
    random.Random(11).shuffle(rest)
    refused = []
    for c in rest:
        nurse = nurses[c.centre_id]
        with acting_as(Actor(nurse.get_username(), "nurse", "")):
            with _dosing_pg._audit_centre(c.centre):
                result = actions.record_dose(c, nurse, centre=c.centre)
        if not result.ok:
            refused.append((c.code, [b.code for b in result.blocks]))
    checks = region_check(today, doubles["recorded"] + len(rest) - len(refused))
    return {
        "counts": counts,
        "due": len(due),
        "centres_due": len(by_centre),
        "doubles": doubles,
        "refused": refused,
        "checks": checks,
    }


def run(scale: str = "small", **_options) -> list[dict]:
    from django.utils import timezone

    url = os.environ.get("PINGAN_BENCH_PG_URL", "")
    if not url:
        return [
            {
                "measure": "region, postgresql, 4 workers",
                "met": "skipped: PINGAN_BENCH_PG_URL not set (the workers need PostgreSQL)",
            }
        ]
    spec = SCALES[scale]
    http = os.environ.get("PINGAN_BENCH_REGION_HTTP", "1") != "0"
    rows, summary = run_pg(url, spec, timezone.localdate(), http=http)
    rates = {name: p["figures"]["rate"] for name, p in summary["phases"].items()}
    for via in ("", " (HTTP)"):
        if f"region{via}" in rates:
            region, one = rates[f"region{via}"], rates[f"centre{via}"]
            print(
                f"goals{via}: region >= {GOAL_REGION} doses/s:"
                f" {'met' if region >= GOAL_REGION else 'not met'} ({region:.1f});"
                f" one centre >= {GOAL_CENTRE} doses/s:"
                f" {'met' if one >= GOAL_CENTRE else 'not met'} ({one:.1f})"
            )
    problems = {n: p["checks"]["problems"] for n, p in summary["phases"].items()}
    if any(problems.values()):
        raise AssertionError(f"regional benchmark invariants failed: {problems}")
    return rows
