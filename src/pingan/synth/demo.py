"""`pingan demo`: a fresh database holding one demo centre with a year of history.

The demo always starts from an empty database, so it must never destroy real records. The
marker is the centre's code: a database whose centres are all `DEMO` (or that holds no
clients and no staff at all) may be wiped; anything else is refused with a message.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils.translation import gettext as _

from pingan.accounts.roles import ROLES
from pingan.core import clock

DEMO_CODE = "DEMO"
DEMO_NAME = "平安社区戒毒康复中心（演示）"
DEMO_PASSWORD = "pingan-demo-2026"
DEMO_DAYS = 365
DEMO_PRODUCT = "盐酸美沙酮口服溶液 (methadone oral solution)"


class DemoRefused(Exception):
    """The database holds records that are not the demo's; nothing was touched."""


@dataclass
class DemoSummary:
    clients: int = 0
    in_treatment: int = 0
    doses: int = 0
    takehome_clients: int = 0
    holds: int = 0
    dosed_today: int = 0
    waiting_today: int = 0
    urine_today: int = 0
    prescriptions: int = 0
    consents: int = 0
    ledger_lines: int = 0
    reenrolments: int = 0
    beds: int = 0
    stays: int = 0
    open_stays: int = 0
    readmissions: int = 0
    early_discharges: int = 0
    police_referrals: int = 0
    referrals_by_demo_officer: int = 0
    care_referrals: int = 0
    overdue_care: int = 0
    sessions: int = 0
    naloxone_kits: int = 0
    lockboxes: int = 0
    takehome_requests: dict = field(default_factory=dict)
    bottles_ahead: int = 0
    seconds: float = 0.0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, pw)


def database_state() -> str:
    """'empty', 'demo' or 'other' — what `pingan demo` would be wiping."""
    tables = set(connection.introspection.table_names())
    if not tables:
        return "empty"

    def count(table: str) -> int:
        if table not in tables:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            return cursor.fetchone()[0]

    codes: list[str] = []
    if "core_centre" in tables:
        with connection.cursor() as cursor:
            cursor.execute("SELECT code FROM core_centre")
            codes = [row[0] for row in cursor.fetchall()]
    if codes and all(code == DEMO_CODE for code in codes):
        return "demo"
    if count("registry_client") or count("auth_user"):
        return "other"
    return "empty"


def _wipe() -> None:
    """Remove the database's contents: the SQLite file (with its WAL and shared memory
    files), or every table of the PostgreSQL schema."""
    vendor = connection.vendor
    if vendor == "sqlite":
        name = Path(settings.DATABASES["default"]["NAME"])
        connections.close_all()
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
            path.unlink(missing_ok=True)
    elif vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    else:
        raise DemoRefused(_("The demo supports SQLite and PostgreSQL only."))


def fresh_database() -> None:
    state = database_state()
    if state == "other":
        raise DemoRefused(
            _(
                "The database in use holds records that are not the demo's (a centre other "
                "than %(code)s, or clients or staff). The demo will not delete them. Point "
                "PINGAN_DATA_DIR or PINGAN_DATABASE_URL at another place to run the demo."
            )
            % {"code": DEMO_CODE}
        )
    _wipe()
    call_command("migrate", verbosity=0, interactive=False)


def create_centre_and_logins(password: str) -> dict:
    """The demo centre, its methadone product and one login per role."""
    from pingan.accounts.actions import create_staff
    from pingan.core.models import Centre
    from pingan.dosing.models import Product

    Centre.objects.create(code=DEMO_CODE, name=DEMO_NAME)
    Product.objects.create(name=DEMO_PRODUCT, strength_mg_per_ml=Decimal("1.00"), active=True)
    return {role: create_staff(role, password, role, "zh-hans") for role in ROLES}


def build_demo(
    clients: int = 250,
    seed: int = 2026,
    password: str = DEMO_PASSWORD,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> DemoSummary:
    """Everything `pingan demo` does before serving; returns what it made."""
    from pingan.audit.context import Actor, acting_as
    from pingan.audit.log import record
    from pingan.dosing.models import Product
    from pingan.imports.loader import load_directory

    from . import demo_records as records
    from .demo_inpatient import build_unit
    from .demo_partners import build_partners
    from .demo_takehome import build_takehome
    from .generator import CentreSpec
    from .writers import write_centre

    started = time.perf_counter()
    summary = DemoSummary()
    steps = 9

    def step(number: int, text: str) -> None:
        say(f"[{number}/{steps}] {text} ({time.perf_counter() - started:.1f} s)")

    step(1, _("Preparing a fresh database"))
    fresh_database()
    today = clock.today()
    with acting_as(Actor("demo", "command")):
        step(2, _("Creating the demo centre and logins"))
        users = create_centre_and_logins(password)
        summary.logins = [(role, users[role].username, password) for role in ROLES]
        with tempfile.TemporaryDirectory(prefix="pingan-demo-") as tmp:
            step(3, _("Generating one year of history for %(n)d clients") % {"n": clients})
            spec = CentreSpec(
                clients=clients,
                days=DEMO_DAYS,
                start=today - timedelta(days=DEMO_DAYS),
                seed=seed,
                code_prefix="YX-",
            )
            write_centre(spec, Path(tmp), ("csv",), progress=progress)
            step(4, _("Importing the history"))
            report = load_directory(Path(tmp), progress=progress)
            summary.clients = report.created.get("clients", 0)
            summary.doses = report.created.get("doses", 0)
            step(5, _("Adding prescriptions, stock, consents and holds"))
            rng = random.Random(seed)
            with transaction.atomic():
                summary.reenrolments = records.apply_reenrolments(Path(tmp))
        states = records.client_states()
        clinician, nurse, manager = users["clinician"], users["nurse"], users["manager"]
        product = Product.objects.get(strength_mg_per_ml=Decimal("1.00"))
        with transaction.atomic():
            summary.prescriptions = records.write_prescriptions(states, clinician)
            summary.consents = records.write_consents(states, today, clinician, rng)
            held = set(records.place_holds(states, today, clinician))
            bottles = records.takehome_today(states, today, held, product, nurse, rng)
            summary.ledger_lines = records.write_ledger(product, today, manager, nurse, rng)
        step(6, _("Recording part of today's queue"))
        summary.dosed_today, summary.waiting_today = records.dose_some_today(
            states, today, held, nurse, 0.45, rng
        )
        summary.urine_today = records.schedule_urine_today(
            states, today, held, rng, max(3, len(states) // 25)
        )
        summary.in_treatment = sum(1 for s in states if s.in_treatment)
        summary.takehome_clients = sum(1 for s in states if s.in_treatment and s.on_takehome(today))
        summary.holds = len(held)
        step(7, _("Opening the detox unit: beds, tariff and a year of stays"))
        unit = build_unit(users, today, DEMO_DAYS, random.Random(seed + 1))
        summary.beds, summary.stays, summary.open_stays = unit.beds, unit.stays, unit.open_stays
        summary.readmissions, summary.early_discharges = unit.readmissions, unit.early_discharges
        step(8, _("Adding police and care referrals, sessions and naloxone kits"))
        work = build_partners(users, states, today, DEMO_DAYS, random.Random(seed + 2))
        summary.police_referrals = work.police_referrals
        summary.referrals_by_demo_officer = work.by_demo_officer
        summary.care_referrals, summary.overdue_care = work.care_referrals, work.overdue_care
        summary.sessions, summary.naloxone_kits = work.sessions, work.naloxone_kits
        step(9, _("Issuing lockboxes and working today's take-home requests"))
        boxes = build_takehome(users, states, today, held, random.Random(seed + 3))
        summary.lockboxes, summary.bottles_ahead = boxes.boxes, boxes.bottles_ahead
        summary.takehome_requests = boxes.by_status
        summary.doses += summary.dosed_today + len(bottles)
        summary.seconds = time.perf_counter() - started
        record(
            "demo_created",
            target=DEMO_CODE,
            clients=summary.clients,
            doses=summary.doses,
            seed=seed,
        )
    return summary
