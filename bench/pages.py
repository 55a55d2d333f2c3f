"""Server time of every main page on the demo centre (docs/performance.md, Pages).

Builds the demo centre (`pingan demo`'s own builder: 250 clients and a year of history by
default) in a throwaway SQLite file, then asks each page as the role that uses it through
Django's test client and reports the median of several requests: the time from the request
entering Django to the response leaving it (middleware, queries, templates), which is what
the server spends; no network, no browser. Goal: every page ≤ 300 ms. Templates render as
the server renders them (the test environment's context-copying hook is taken off).

The indicator dashboard is timed four ways: with nothing computed (a server that was just
started and has not precomputed yet), on the first load after the background pass has
precomputed it (what a visitor meets), on the first load after a new dose, and on a second
load.

Run: `pingan bench pages [--scale small|full]` (small = 40 clients, 3 requests a page).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

SCALES = {"small": {"clients": 40, "runs": 3}, "full": {"clients": 250, "runs": 7}}
GOAL_MS = 300.0


def _time(get: Callable[[], object], runs: int, before: Callable[[], None] | None = None):
    """Median and worst milliseconds of `runs` requests (`before` runs untimed each time),
    and the last response."""
    times, response = [], None
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        response = get()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), response


def _targets() -> dict[str, str]:
    """External ids of the records the pages open: a client in the queue, a stay with a
    receipt, a police referral."""
    from pingan.inpatient.models import LedgerEntry, Stay
    from pingan.referrals.models import PoliceReferral
    from pingan.registry.models import Client

    # A client of DEMO, the centre the role logins work in (the region's other centres
    # answer them 404).
    client = (
        Client.objects.filter(centre__code="DEMO", episodes__discharged_on__isnull=True)
        .order_by("code")
        .first()
    )
    stay = Stay.objects.filter(discharged_at__isnull=True).order_by("pk").first()
    entry = LedgerEntry.objects.filter(receipt_number__isnull=False).order_by("pk").first()
    referral = PoliceReferral.objects.order_by("pk").first()
    return {
        "client": str(client.external_id),
        "stay": str(stay.external_id) if stay else "",
        "receipt": str(entry.external_id) if entry else "",
        "referral": str(referral.external_id) if referral else "",
    }


def pages(ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(role, page, URL) of every main page the demo shows, as the role that uses it."""
    c = ids["client"]
    rows = [
        ("nurse", "nurse queue", "/dosing/queue/"),
        ("nurse", "client page", f"/clients/{c}/"),
        ("nurse", "dosing record of a client", f"/dosing/client/{c}/"),
        ("nurse", "urine schedule", "/labs/schedule/"),
        ("nurse", "take-home list", "/takehome/"),
        ("clinician", "home (redirects to the role's start page)", "/"),
        ("clinician", "client list", "/clients/"),
        ("clinician", "client page", f"/clients/{c}/"),
        ("clinician", "take-home eligibility", "/takehome/eligibility/"),
        ("clinician", "take-home client", f"/takehome/client/{c}/"),
        ("clinician", "clinician worklist", "/dosing/worklist/"),
        ("clinician", "referral inbox", "/referrals/inbox/"),
        ("clinician", "care referrals overdue", "/referrals/care/overdue/"),
        ("clinician", "drop-outs", "/services/dropouts/"),
        ("clinician", "lockbox alerts", "/lockbox/alerts/"),
        ("clinician", "detox bed board", "/inpatient/"),
        ("manager", "stock", "/dosing/stock/"),
        ("manager", "audit log", "/audit/list/"),
        ("manager", "outbox", "/messaging/"),
        ("manager", "detox monthly report", "/inpatient/report/"),
        ("manager", "evaluation", "/indicators/evaluation/"),
        ("cdc", "indicator dashboard", "/indicators/"),
        ("cdc", "evaluation", "/indicators/evaluation/"),
        ("police", "police home", "/police/"),
        ("police", "my referrals", "/referrals/police/mine/"),
        ("police", "indicator dashboard", "/indicators/"),
        ("police", "evaluation", "/indicators/evaluation/"),
    ]
    if ids["stay"]:
        rows.append(("manager", "detox stay", f"/inpatient/stay/{ids['stay']}/"))
    if ids["receipt"]:
        rows.append(("manager", "receipt", f"/inpatient/receipt/{ids['receipt']}/"))
    if ids["referral"]:
        rows.append(("clinician", "police referral", f"/referrals/inbox/{ids['referral']}/"))
    return rows


def _dose_one(users) -> str:
    """Record one dose through the nurse's action, for a client still waiting today."""
    from pingan.core import clock
    from pingan.dosing import actions, queries

    for row in queries.queue(clock.today(), status="waiting"):
        outcome = actions.record_dose(row.client, users["nurse"])
        if outcome.dose is not None:
            return row.client.code
    return ""


@contextmanager
def _templates_as_served():
    """Render templates as the server does: without the test environment's hook that
    copies every template's context for the test client (it costs a third of a page)."""
    from django.template import Template
    from django.test import utils

    saved = getattr(getattr(utils._TestState, "saved_data", None), "template_render", None)
    hooked = Template._render
    if saved is not None:
        Template._render = saved
    try:
        yield
    finally:
        Template._render = hooked


def measure(runs: int) -> list[dict]:
    """Time every page on the database in use, which holds the demo centre."""
    with _templates_as_served():
        return _measure(runs)


def _measure(runs: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client as Browser

    from pingan.accounts.roles import ROLES
    from pingan.indicators import freshness

    users = {role: get_user_model().objects.get(username=role) for role in ROLES}
    browsers = {}
    for role, user in users.items():
        browsers[role] = Browser(raise_request_exception=False)  # a failing page is a row
        browsers[role].force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    rows: list[dict] = []

    def row(role: str, page: str, median: float, worst: float, status: int, note: str = ""):
        rows.append(
            {
                "role": role,
                "page": page,
                "median_ms": round(median, 1),
                "worst_ms": round(worst, 1),
                "status": status,
                "met": "yes" if median <= GOAL_MS and status in (200, 302) else "NO",
                "note": note,
            }
        )

    cdc = browsers["cdc"]
    board = lambda: cdc.get("/indicators/")  # noqa: E731
    median, worst, r = _time(board, runs, before=cache.clear)
    row("cdc", "indicator dashboard, nothing computed yet", median, worst, r.status_code,
        "a server just started, before its background pass")  # fmt: skip
    cache.clear()
    t0 = time.perf_counter()
    freshness.warm()
    warm_ms = (time.perf_counter() - t0) * 1000
    median, worst, r = _time(board, 1)
    row("cdc", "indicator dashboard, first load (precomputed)", median, worst, r.status_code,
        f"background pass took {warm_ms:.0f} ms")  # fmt: skip
    code = _dose_one(users)
    median, worst, r = _time(board, 1)
    row("cdc", "indicator dashboard, first load after a dose", median, worst, r.status_code,
        f"dose for {code} recorded through the action" if code else "no client waiting")  # fmt: skip
    median, worst, r = _time(board, runs)
    row("cdc", "indicator dashboard, second load", median, worst, r.status_code)

    freshness.warm()
    for role, page, url in pages(_targets()):
        median, worst, r = _time(lambda: browsers[role].get(url), runs)  # noqa: B023
        row(role, page, median, worst, r.status_code)
    return rows


def run(scale: str = "full", in_place: bool = False, **_options) -> list[dict]:
    """Build the demo centre in a throwaway SQLite file (or, `in_place`, in the database in
    use, which must be an empty test database) and time every page on it."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from pingan.synth.demo import build_demo

    spec = SCALES[scale]
    if in_place:
        build_demo(clients=spec["clients"], progress=False, say=lambda _text: None)
        return measure(spec["runs"])
    setup_test_environment()
    with tempfile.TemporaryDirectory(prefix="pingan-bench-pages-") as tmp:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(tmp) / "demo.sqlite3")
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            t0 = time.perf_counter()
            build_demo(clients=spec["clients"], progress=False, say=lambda _text: None)
            built = time.perf_counter() - t0
            rows = measure(spec["runs"])
            rows.insert(0, _about(spec, built))
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()
    return rows


def _about(spec: dict, built_s: float) -> dict:
    import platform

    from django.db import connection

    return {
        "role": "-",
        "page": f"demo centre, {spec['clients']} clients, one year; built in {built_s:.0f} s",
        "median_ms": "",
        "worst_ms": "",
        "status": "",
        "met": "",
        "note": f"{connection.vendor}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, median of {spec['runs']}",
    }
