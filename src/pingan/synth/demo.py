"""`pingan demo`: a fresh database holding a demo region of three centres with a year of
history: `DEMO` and two smaller centres (`demo_region.py`).

The demo always starts from an empty database, so it must never destroy real records. The
marker is the centres' codes: a database whose centres are all among `DEMO`, `DEMO2` and
`DEMO3` (or that holds no clients and no staff at all) may be wiped; anything else is
refused with a message.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils.translation import gettext as _

from pingan.accounts.roles import ROLES
from pingan.core import clock

DEMO_CODE = "DEMO"
DEMO_CODES = ("DEMO", "DEMO2", "DEMO3")
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
    guest_slips: int = 0
    guest_doses: int = 0
    dual_enrolment_notices: int = 0
    transfers: int = 0
    seconds: float = 0.0
    # (code, name, clients) of each centre
    centres: list[tuple[str, str, int]] = field(default_factory=list)
    # (role, username, centre codes or "" for a regional login)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


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
    if codes and all(code in DEMO_CODES for code in codes):
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
                "than %(codes)s, or clients or staff). The demo will not delete them. Point "
                "PINGAN_DATA_DIR or PINGAN_DATABASE_URL at another place to run the demo."
            )
            % {"codes": ", ".join(DEMO_CODES)}
        )
    _wipe()
    call_command("migrate", verbosity=0, interactive=False)


def create_centre_and_logins(password: str) -> dict:
    """The demo centre, its methadone product and one login per role."""
    from pingan.accounts.actions import create_staff
    from pingan.core.models import Centre
    from pingan.dosing.models import Product

    centre = Centre.objects.create(code=DEMO_CODE, name=DEMO_NAME)
    Product.objects.create(
        centre=centre, name=DEMO_PRODUCT, strength_mg_per_ml=Decimal("1.00"), active=True
    )
    return {role: create_staff(role, password, role, "zh-hans") for role in ROLES}


@dataclass
class _Site:
    """One centre of the demo while it is being built."""

    centre: object
    users: dict  # role → login working there (the CDC and police logins are regional)
    spec: object  # its generator spec
    folder: Path
    rng: random.Random
    states: list = field(default_factory=list)
    held: set = field(default_factory=set)


def _import(sites: list[_Site], summary: DemoSummary, progress: bool) -> None:
    """Import each centre's generated year, then split the re-enrolments."""
    from pingan.imports.loader import load_directory

    from . import demo_records as records

    for site in sites:
        report = load_directory(site.folder, progress=progress, centre=site.centre)
        summary.clients += report.created.get("clients", 0)
        summary.doses += report.created.get("doses", 0)
        with transaction.atomic():
            summary.reenrolments += records.apply_reenrolments(site.folder, site.centre.pk)


def _guests(sites: list[_Site], today: date, summary: DemoSummary) -> None:
    """A client of DEMO at DEMO2 and one of DEMO2 at DEMO, on slips running from a few days
    ago (the host's doses of those days given) to a few days ahead."""
    from . import demo_records as records
    from .demo_region import GUEST_DAYS_PAST, pick_traveller, send_guest

    demo, second = sites[0], sites[1]
    for home, host in ((demo, second), (second, demo)):
        traveller = pick_traveller(records.client_states(home.centre.pk), today)
        if traveller is None:
            continue
        send_guest(traveller, host.centre, home.users["clinician"], host.users["nurse"], today)
        summary.guest_slips += 1
        summary.guest_doses += GUEST_DAYS_PAST


def _records(site: _Site, today: date, summary: DemoSummary, bottles: list) -> None:
    """Consents, holds, today's take-home bottles and the stock ledger of one centre."""
    from pingan.dosing.models import Product

    from . import demo_records as records

    users, rng, centre = site.users, site.rng, site.centre
    site.states = records.client_states(centre.pk)
    product = Product.objects.get(centre=centre, strength_mg_per_ml=Decimal("1.00"))
    with transaction.atomic():
        summary.consents += records.write_consents(site.states, today, users["clinician"], rng)
        site.held = set(records.place_holds(site.states, today, users["clinician"], centre))
        bottles += records.takehome_today(
            site.states, today, site.held, product, users["nurse"], rng
        )
        summary.ledger_lines += records.write_ledger(
            product, today, users["manager"], users["nurse"], rng
        )


def _region_logins(users: dict, extra: dict) -> list[tuple[str, str, str]]:
    """Each login with the centres it works in ("" for the police: the whole region)."""
    from .demo_region import EXTRA_CENTRES

    logins = []
    for role in ROLES:
        where = ", ".join(DEMO_CODES) if role == "cdc" else DEMO_CODE
        logins.append((role, users[role].username, "" if role == "police" else where))
    for plan in EXTRA_CENTRES:
        for role, user in extra[plan.code][1].items():
            logins.append((role, user.username, plan.code))
    return logins


def build_demo(
    clients: int = 250,
    seed: int = 2026,
    password: str = DEMO_PASSWORD,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> DemoSummary:
    """Everything `pingan demo` does before serving; returns what it made. `clients` is
    DEMO's size; DEMO2 and DEMO3 each have `demo_region.EXTRA_SHARE` of it."""
    from pingan.audit.context import Actor, acting_as
    from pingan.audit.log import record
    from pingan.core.models import Centre
    from pingan.dosing.actions import record_dose
    from pingan.dosing.models import GuestSlip
    from pingan.registry.models import Client, EnrolmentAttempt

    from . import demo_records as records
    from . import demo_region as region
    from .demo_inpatient import build_unit
    from .demo_partners import build_partners
    from .demo_takehome import build_takehome
    from .generator import CentreSpec
    from .writers import write_centre

    started = time.perf_counter()
    summary = DemoSummary()
    steps = 10

    def step(number: int, text: str) -> None:
        say(f"[{number}/{steps}] {text} ({time.perf_counter() - started:.1f} s)")

    step(1, _("Preparing a fresh database"))
    fresh_database()
    today = clock.today()
    start = today - timedelta(days=DEMO_DAYS)
    sizes = [clients] + [region.extra_size(clients) for _plan in region.EXTRA_CENTRES]
    with (
        acting_as(Actor("demo", "command")),
        tempfile.TemporaryDirectory(prefix="pingan-demo-") as tmp,
    ):
        step(2, _("Creating the %(n)d demo centres and their logins") % {"n": len(sizes)})
        users = create_centre_and_logins(password)
        extra = region.create_extra_centres(password, DEMO_PRODUCT)
        region.place_demo_logins(users, DEMO_CODE)
        summary.logins = _region_logins(users, extra)

        sites = [
            _Site(
                Centre.objects.get(code=DEMO_CODE),
                users,
                CentreSpec(
                    clients=clients, days=DEMO_DAYS, start=start, seed=seed, code_prefix="YX-"
                ),
                Path(tmp) / DEMO_CODE,
                random.Random(seed),
            )
        ]
        for plan, size in zip(region.EXTRA_CENTRES, sizes[1:], strict=True):
            centre, staff = extra[plan.code]
            sites.append(
                _Site(
                    centre,
                    {**users, **staff},
                    CentreSpec(
                        clients=size,
                        days=DEMO_DAYS,
                        start=start,
                        seed=seed + plan.seed_offset,
                        code_prefix=plan.prefix,
                    ),
                    Path(tmp) / plan.code,
                    random.Random(seed + plan.seed_offset),
                )
            )
        step(
            3,
            _("Generating one year of history for %(n)d clients in %(centres)s")
            % {
                "n": sum(sizes),
                "centres": ", ".join(f"{s.centre.code} {s.spec.clients}" for s in sites),
            },
        )
        for site in sites:
            write_centre(site.spec, site.folder, ("csv",), progress=progress)
        step(4, _("Importing the history"))
        _import(sites, summary, progress)
        step(5, _("Adding prescriptions, guest slips, stock, consents and holds"))
        with transaction.atomic():
            for site in sites:
                summary.prescriptions += records.write_prescriptions(
                    records.client_states(site.centre.pk), site.users["clinician"]
                )
        _guests(sites, today, summary)
        bottles: list = []
        for site in sites:
            _records(site, today, summary, bottles)
        step(6, _("Recording part of today's queue"))
        for site in sites:
            dosed, waiting = records.dose_some_today(
                site.states, today, site.held, site.users["nurse"], 0.45, site.rng
            )
            summary.dosed_today += dosed
            summary.waiting_today += waiting
            summary.urine_today += records.schedule_urine_today(
                site.states, today, site.held, site.rng, max(3, len(site.states) // 25)
            )
            summary.in_treatment += sum(1 for s in site.states if s.in_treatment)
            summary.takehome_clients += sum(
                1 for s in site.states if s.in_treatment and s.on_takehome(today)
            )
            summary.holds += len(site.held)
        # The guest from DEMO2 is dosed at DEMO today; DEMO's guest still waits at DEMO2.
        for slip in GuestSlip.objects.filter(host=sites[0].centre, valid_to__gte=today):
            summary.guest_doses += bool(
                record_dose(slip.client, users["nurse"], centre=sites[0].centre).ok
            )
        step(7, _("Opening the detox unit: beds, tariff and a year of stays"))
        unit = build_unit(users, today, DEMO_DAYS, random.Random(seed + 1))
        summary.beds, summary.stays, summary.open_stays = unit.beds, unit.stays, unit.open_stays
        summary.readmissions, summary.early_discharges = unit.readmissions, unit.early_discharges
        step(8, _("Adding police and care referrals, sessions and naloxone kits"))
        work = build_partners(users, sites[0].states, today, DEMO_DAYS, random.Random(seed + 2))
        summary.police_referrals = work.police_referrals
        summary.referrals_by_demo_officer = work.by_demo_officer
        summary.care_referrals, summary.overdue_care = work.care_referrals, work.overdue_care
        summary.sessions, summary.naloxone_kits = work.sessions, work.naloxone_kits
        step(9, _("Issuing lockboxes and working today's take-home requests"))
        summary.takehome_requests = {}
        for number, site in enumerate(sites):
            boxes = build_takehome(
                site.users, site.states, today, site.held, random.Random(seed + 3 + 1000 * number)
            )
            summary.lockboxes += boxes.boxes
            summary.bottles_ahead += boxes.bottles_ahead
            for status, count in boxes.by_status.items():
                summary.takehome_requests[status] = summary.takehome_requests.get(status, 0) + count
        step(10, _("Between centres: a refused second enrolment and a transfer"))
        region.try_second_enrolment(sites[0].centre, sites[2].centre, sites[2].users["clinician"])
        summary.dual_enrolment_notices = EnrolmentAttempt.objects.count()
        moved = region._transfer_one(
            sites[2].centre, sites[1].centre, sites[2].users["clinician"], today
        )
        summary.transfers = int(moved is not None)
        sizes_now = Counter(Client.objects.values_list("centre_id", flat=True))
        summary.centres = [(c.code, c.name, sizes_now[c.pk]) for c in Centre.objects.order_by("pk")]
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
