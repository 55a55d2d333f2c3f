"""The demo's region: the centres beside `DEMO`, their staff, and what passes between
centres — guest slips both ways with doses already given at the host, and one refused
second enrolment that leaves its notice at the centre treating the person.

Each extra centre gets the same history as `DEMO` (the generator, the import, the records
derived from it, take-home) at a smaller size; the detox unit and the police and care
partners stay with `DEMO`. The CDC and police logins are regional: the CDC officer is a
member of every centre (and switches between them), the police officer of none (their
screens span the region).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.actions import create_staff
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.dosing.models import Dose, DoseKind, GuestSlip, Product
from pingan.region.actions import add_membership
from pingan.registry.models import Client, Identity

from .demo_records import ClientState


@dataclass(frozen=True)
class CentrePlan:
    code: str
    name: str
    prefix: str  # client codes, unique per centre
    seed_offset: int  # each centre's clients are other people


EXTRA_CENTRES = (
    CentrePlan("DEMO2", "江川社区戒毒康复中心（演示）", "JC-", 101),
    CentrePlan("DEMO3", "通海社区戒毒康复中心（演示）", "TH-", 202),
)
# Each extra centre is this share of the size asked for DEMO (250 → 175).
EXTRA_SHARE = 0.7
# The staff each extra centre has, logged in as e.g. `nurse2`, `clinician3`.
CENTRE_ROLES = ("nurse", "clinician", "manager")
# The staff of DEMO (the logins named after their role) and the regional logins.
DEMO_ROLES = ("nurse", "clinician", "manager")
REGIONAL_ROLES = ("cdc", "police")
# A guest slip runs from a few days ago (doses already given at the host) to a few days
# ahead, so today the client is in the host's queue.
GUEST_DAYS_PAST = 3
GUEST_DAYS_AHEAD = 4


def extra_size(clients: int) -> int:
    return max(1, round(clients * EXTRA_SHARE))


def login_of(role: str, plan: CentrePlan) -> str:
    return f"{role}{plan.code.removeprefix('DEMO')}"


def create_extra_centres(password: str, product_name: str) -> dict[str, tuple[Centre, dict]]:
    """The extra centres, each with its methadone product and its nurse, clinician and
    manager (members of that centre only)."""
    made = {}
    for plan in EXTRA_CENTRES:
        centre = Centre.objects.create(code=plan.code, name=plan.name)
        Product.objects.create(
            centre=centre, name=product_name, strength_mg_per_ml=Decimal("1.00"), active=True
        )
        staff = {}
        for role in CENTRE_ROLES:
            user = create_staff(login_of(role, plan), password, role, "zh-hans")
            add_membership(user.username, plan.code)
            staff[role] = user
        made[plan.code] = (centre, staff)
    return made


def place_demo_logins(users: dict, demo_code: str) -> None:
    """DEMO's staff belong to DEMO; the CDC officer to every centre, DEMO first (so they
    start where they always did); the police officer to none."""
    for role in DEMO_ROLES:
        add_membership(users[role].username, demo_code)
    add_membership(users["cdc"].username, demo_code)
    for plan in EXTRA_CENTRES:
        add_membership(users["cdc"].username, plan.code)


# Guest slips ----------------------------------------------------------------------------------


def pick_traveller(states: list[ClientState], today: date) -> ClientState | None:
    """A client in treatment, not on take-home, who came to the clinic on each of the last
    ten days at an unchanged dose: their slip days then hold no bottle and no change."""
    window = [today - timedelta(days=n) for n in range(1, 11)]
    for state in states:
        if not state.in_treatment or state.on_takehome(today):
            continue
        recent = {day: (mg, kind) for day, mg, kind in state.doses[-12:]}
        if all(recent.get(day, (0, ""))[1] == "clinic" for day in window) and (
            len({recent[day][0] for day in window}) == 1
        ):
            return state
    return None


def _at(day: date, minute: int) -> datetime:
    moment = datetime.combine(day, time(minute // 60, minute % 60))
    return timezone.make_aware(moment, timezone.get_default_timezone())


def send_guest(state: ClientState, host: Centre, clinician, host_nurse, today: date) -> GuestSlip:
    """A slip from the client's clinician for GUEST_DAYS_PAST days ago to GUEST_DAYS_AHEAD
    days ahead, issued through the dosing action on its first morning, and the host's doses
    of the days already past. The history had the client at home on those days: those
    doses are taken out, since the client was at the host instead."""
    from pingan.dosing.actions import issue_guest_slip
    from pingan.dosing.queries import volume_ml
    from pingan.dosing.stock import product_of

    first = today - timedelta(days=GUEST_DAYS_PAST)
    last = today + timedelta(days=GUEST_DAYS_AHEAD)
    client = Client.objects.defer("photo").get(pk=state.client_id)
    Dose.objects.filter(client=client, date__gte=first, date__lt=today).delete()
    with clock.frozen(datetime.combine(first, time(7, 30))):
        slip = issue_guest_slip(client, host, first, last, clinician)
    product = product_of(host)
    Dose.objects.bulk_create(
        Dose(
            client=client,
            date=first + timedelta(days=n),
            kind=DoseKind.GUEST,
            mg=slip.dose_mg,
            mg_in_clinic=slip.dose_mg,
            mg_taken_home=0,
            drug=product.drug,
            form=product.form,
            strength_mg_per_ml=product.strength_mg_per_ml,
            volume_ml=volume_ml(slip.dose_mg, product.strength_mg_per_ml),
            given_at=_at(first + timedelta(days=n), 8 * 60 + 10 * n),
            dispenser=host_nurse,
            centre=host,
            created_by=host_nurse,
        )
        for n in range(GUEST_DAYS_PAST)
    )
    return slip


# A second enrolment refused -------------------------------------------------------------------


def try_second_enrolment(home: Centre, elsewhere: Centre, clinician) -> bool:
    """A clinician of `elsewhere` tries to enrol, with their document number, a person in
    treatment at `home`: the registry refuses and leaves `home` its notice. True when it
    was refused as treated elsewhere."""
    from pingan.registry.actions import IdentityInput, enrol_client

    identity = (
        Identity.objects.filter(client__centre=home, client__episodes__discharged_on__isnull=True)
        .exclude(national_id_index="")
        .select_related("client")
        .order_by("client__code")
        .first()
    )
    if identity is None:
        return False
    person = identity.client
    # No transaction around it: the registry commits the notice although it refuses.
    try:
        enrol_client(
            alias=person.alias,
            sex=person.sex,
            birth_year=person.birth_year,
            user=clinician,
            identity=IdentityInput(name=identity.name, national_id=identity.national_id),
            centre=elsewhere,
        )
    except Refusal as refusal:
        return refusal.code == "treated_elsewhere"
    raise AssertionError(_("A person in treatment at another centre was enrolled."))


# A transfer -----------------------------------------------------------------------------------


def _transfer_one(source: Centre, target: Centre, clinician, today: date) -> Client | None:
    """One client of `source` moved for good to `target`, with consent recorded today,
    through the registry's transfer action; None when no client could be moved."""
    from pingan.registry.actions import transfer_client

    candidates = (
        Client.objects.defer("photo")
        .filter(centre=source, episodes__discharged_on__isnull=True)
        .exclude(guest_slips__valid_to__gte=today, guest_slips__cancelled_at__isnull=True)
        .order_by("-code")
    )
    for client in candidates[:20]:
        try:
            with transaction.atomic():
                transfer_client(client, target, today, _("Moved to live with family"), clinician)
        except Refusal:
            continue
        return client
    return None
