"""Daily PIN run (docs/performance.md): derive every due box's PIN and queue it in the outbox.

Goal: 50,000 boxes in ≤ 5 s. Builds the population inside one transaction on the
configured database and rolls it back at the end, so run it against a scratch data
directory (demo settings, which make their own keys):
    export DJANGO_SETTINGS_MODULE=pingan.settings.demo PINGAN_DATA_DIR=$(mktemp -d)
    pingan migrate && pingan bench pins
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

SCALES = {"small": 2_000, "full": 50_000}
GOAL_S = 5.0
REPEATS = 3


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the composing workers):
    on a shared machine the wall time says more about the neighbours than about the run."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Rollback(Exception):
    pass


def _population(n: int, day) -> None:
    from pingan.audit.signals import capture_paused
    from pingan.lockbox import pin
    from pingan.lockbox.models import Box
    from pingan.registry.models import Client, Consent, Identity
    from pingan.takehome.models import TakeHomeBottle

    with capture_paused():
        clients = Client.objects.bulk_create(
            [
                Client(
                    code=f"BENCH-{i:06d}",
                    alias="bench",
                    sex="M",
                    birth_year=1980,
                    language="en" if i % 5 == 0 else "zh-hans",
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        Identity.objects.bulk_create(
            [Identity(client=c, phone=f"139{i:08d}") for i, c in enumerate(clients)],
            batch_size=2000,
        )
        Consent.objects.bulk_create(
            [Consent(client=c, purpose="sms", given_on=day - timedelta(days=30)) for c in clients],
            batch_size=2000,
        )
        boxes = Box.objects.bulk_create(
            [
                Box(label=f"PB{i:08d}", client=c, secret=pin.new_secret(), issued_on=day)
                for i, c in enumerate(clients)
            ],
            batch_size=2000,
        )
        TakeHomeBottle.objects.bulk_create(
            [TakeHomeBottle(client=b.client, box=b, day=day, mg=60) for b in boxes],
            batch_size=2000,
        )


def run(scale: str = "small", **_options) -> list[dict]:
    from pingan.lockbox import pin
    from pingan.messaging.actions import queue_due_pins
    from pingan.messaging.models import SmsMessage

    n = SCALES[scale]
    day = timezone.localdate()
    rows: list[dict] = []
    try:
        with transaction.atomic():
            started = time.perf_counter()
            _population(n, day)
            setup_s = time.perf_counter() - started

            secrets = [pin.new_secret() for _ in range(n)]
            t0 = time.perf_counter()
            for s in secrets:
                pin.hotp(bytes.fromhex(s), pin.day_number(day))
            derive_only = time.perf_counter() - t0

            timings, cpus, queued = [], [], 0
            load = os.getloadavg()[0]
            for _ in range(REPEATS):
                SmsMessage.objects.filter(day=day).delete()
                t0, c0 = time.perf_counter(), _cpu()
                result = queue_due_pins(day, ignore_hour=True)
                timings.append(time.perf_counter() - t0)
                cpus.append(_cpu() - c0)
                queued = result.queued
            t0 = time.perf_counter()
            again = queue_due_pins(day, ignore_hour=True)
            rerun_s = time.perf_counter() - t0
            median = statistics.median(timings)
            rows = [
                {
                    "boxes": n,
                    "database": connection.vendor,
                    "queued": queued,
                    "median_s": round(median, 3),
                    "min_s": round(min(timings), 3),
                    "cpu_s": round(statistics.median(cpus), 2),
                    "load": round(load, 1),
                    "per_box_us": round(median / n * 1e6, 1),
                    "hotp_only_s": round(derive_only, 3),
                    "rerun_noop_s": round(rerun_s, 3),
                    "rerun_queued": again.queued,
                    "goal_s": GOAL_S if scale == "full" else round(GOAL_S * n / 50_000, 2),
                    "setup_s": round(setup_s, 1),
                }
            ]
            raise _Rollback
    except _Rollback:
        pass
    return rows
