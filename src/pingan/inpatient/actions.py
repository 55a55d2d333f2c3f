"""State changes of the detox unit: beds, admission, moves, discharge and step-down to
community MMT. One transaction each, each audited.

Tariff versions live in `tariff`, money actions in `billing`, nursing and orders in `care`. Locks are taken bed first,
then stay, then the audit head (`record` is called last), so no two actions wait in a
circle; the database constraints (one open stay per bed and per person) are the last guard
and their refusals become clear messages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.core.models import Centre
from pingan.registry import actions as registry
from pingan.registry.models import Client, Sex
from pingan.registry.rules import check_birth_year

from . import rules
from .models import (
    Bed,
    BedMove,
    BedState,
    EntryKind,
    InpatientPerson,
    LedgerEntry,
    Room,
    RoomType,
    Stay,
)

# Tariff versions live in `tariff`; they are part of this module's interface too.
from .tariff import (  # noqa: F401
    create_tariff,
    publish_tariff,
    quote_for,
    set_rate,
    table_of,
    tariff_in_force,
)

# Rooms and beds ----------------------------------------------------------------------------


def add_room(
    name: str, room_type: str, bed_labels: list[str], user, centre: Centre | None = None
) -> Room:
    """A ward room of `centre` (else the installation's centre) with its beds."""
    require(user, "manage_tariff")
    centre = centre or Centre.current()
    name = (name or "").strip()
    labels = [label.strip() for label in bed_labels if label.strip()]
    if not name:
        raise Refusal(_("Give the room a name."))
    if room_type not in RoomType.values:
        raise Refusal(_("Choose a room type."))
    if not labels or len(set(labels)) != len(labels):
        raise Refusal(_("List one or more beds, each with its own label."))
    if Room.objects.filter(centre=centre, name=name).exists():
        raise Refusal(_("A room with this name exists already."))
    today = clock.today()
    with acting(user), transaction.atomic():
        room = Room.objects.create(centre=centre, name=name, room_type=room_type, created_by=user)
        for label in labels:
            Bed.objects.create(room=room, label=label, in_service_from=today, created_by=user)
        record("inpatient_room_added", f"inpatient.room:{room.external_id}", beds=labels)
    return room


def set_bed_state(bed: Bed, state: str, user) -> Bed:
    """Reserve, release or mark a bed for cleaning; an occupied bed keeps its patient."""
    require(user, "inpatient_nursing", "inpatient_admit", any_of=True)
    if state not in BedState.values:
        raise Refusal(_("Choose a bed state."))
    with acting(user), transaction.atomic():
        bed = Bed.objects.select_for_update().get(pk=bed.pk)
        if Stay.objects.filter(bed=bed, discharged_at__isnull=True).exists():
            raise Refusal(_("This bed is occupied; discharge or move the patient first."))
        previous, bed.state = bed.state, state
        bed.save(update_fields=["state"])
        record("inpatient_bed_state", f"inpatient.bed:{bed.external_id}", old=previous, new=state)
    return bed


# Admission ---------------------------------------------------------------------------------


@dataclass
class Admission:
    alias: str
    sex: str
    birth_year: int
    history: rules.UseHistory
    planned_days: int
    reason: str = ""
    return_card_code: str = ""  # given when the person comes back
    identity: registry.IdentityInput | None = None


def find_person(card_code: str) -> InpatientPerson | None:
    code = rules.normalise_card_code(card_code)
    return InpatientPerson.objects.filter(return_card_code=code).first() if code else None


def _new_person(data: Admission, user) -> InpatientPerson:
    errors: dict[str, str] = {}
    if not (data.alias or "").strip():
        errors["alias"] = _("Enter an alias the person is called by.")
    if data.sex not in Sex.values:
        errors["sex"] = _("Choose a sex.")
    try:
        check = check_birth_year(int(data.birth_year), clock.today())
        if not check.passed:
            errors["birth_year"] = check.reason
    except (TypeError, ValueError):
        errors["birth_year"] = _("Enter a birth year.")
    if errors:
        raise Refusal(" ".join(errors.values()))
    for _attempt in range(50):
        code = rules.new_card_code()
        if not InpatientPerson.objects.filter(return_card_code=code).exists():
            break
    return InpatientPerson.objects.create(
        alias=data.alias.strip(),
        sex=data.sex,
        birth_year=int(data.birth_year),
        return_card_code=code,
        created_by=user,
    )


def _vault(person: InpatientPerson, identity: registry.IdentityInput, user) -> None:
    """Identity given at admission goes to the registry's encrypted vault, under a client
    record with a fresh code and no MMT episode (a detox stay is not MMT enrolment)."""
    require(user, "view_identity")
    if person.client_id is None:
        person.client = Client.objects.create(
            code=registry.generate_client_code(),
            alias=person.alias,
            sex=person.sex,
            birth_year=person.birth_year,
            created_by=user,
        )
        person.save(update_fields=["client"])
    try:
        registry.update_identity(person.client, identity, user)
    except ValidationError as exc:
        raise Refusal(" ".join(exc.messages), code="identity") from exc


def admit(data: Admission, bed: Bed, user, at: datetime | None = None) -> Stay:
    """Admit to a free (or reserved) bed at today's tariff; the price per day is frozen on
    the stay and the planned days are charged to its ledger."""
    require(user, "inpatient_admit")
    at = at or clock.now()
    admitted_on = timezone.localdate(at)
    tariff = tariff_in_force(admitted_on)
    if tariff is None:
        raise Refusal(_("No tariff is in force; the manager must publish one."), code="tariff")
    room_type = bed.room.room_type
    quote = rules.quote(table_of(tariff), room_type, data.history, data.planned_days)
    wants_identity = data.identity is not None and not data.identity.is_empty()
    with acting(user), transaction.atomic():
        bed = Bed.objects.select_for_update().get(pk=bed.pk)
        if bed.retired_on is not None or bed.state == BedState.CLEANING:
            raise Refusal(
                _("This bed is not ready (%(state)s).") % {"state": bed.get_state_display()},
                code="bed",
            )
        if Stay.objects.filter(bed=bed, discharged_at__isnull=True).exists():
            raise Refusal(_("This bed is already occupied."), code="bed_taken")
        previous = None
        if (data.return_card_code or "").strip():
            person = find_person(data.return_card_code)
            if person is None:
                raise Refusal(_("No one has this return card code; check the card."), code="card")
            if person.stays.filter(discharged_at__isnull=True).exists():
                raise Refusal(_("This person is already admitted."), code="open_stay")
            previous = (
                person.stays.exclude(discharged_at__isnull=True).order_by("-discharged_at").first()
            )
        else:
            person = _new_person(data, user)
        if wants_identity:
            _vault(person, data.identity, user)
        try:
            with transaction.atomic():
                stay = Stay.objects.create(
                    person=person,
                    bed=bed,
                    admitted_at=at,
                    admitted_on=admitted_on,
                    planned_days=quote.days,
                    reason=(data.reason or "").strip()[:300],
                    **asdict(data.history),
                    severity_score=quote.severity.score,
                    tariff=tariff,
                    price_per_day=quote.day_price,
                    readmission_of=previous,
                    created_by=user,
                )
        except IntegrityError as exc:
            raise Refusal(_("This bed is already occupied."), code="bed_taken") from exc
        if bed.state == BedState.RESERVED:
            bed.state = BedState.FREE
            bed.save(update_fields=["state"])
        LedgerEntry.objects.create(
            stay=stay,
            kind=EntryKind.CHARGE,
            amount=quote.total,
            days=quote.days,
            at=at,
            note=_("Planned days at admission"),
            created_by=user,
        )
        record(
            "inpatient_admit",
            f"inpatient.stay:{stay.external_id}",
            bed=str(bed),
            days=quote.days,
            day_price=quote.day_price,
            score=quote.severity.score,
            readmission=previous is not None,
            with_identity=wants_identity,
        )
    return stay


def move_bed(stay: Stay, bed: Bed, user) -> Stay:
    """Move a patient; the price stays as admitted (the room type was priced then)."""
    require(user, "inpatient_admit")
    with acting(user), transaction.atomic():
        bed = Bed.objects.select_for_update().get(pk=bed.pk)
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        if not stay.is_open:
            raise Refusal(_("This stay has ended."), code="closed")
        if bed.pk == stay.bed_id:
            raise Refusal(_("The patient is already in this bed."))
        if bed.state == BedState.CLEANING or bed.retired_on is not None:
            raise Refusal(
                _("This bed is not ready (%(state)s).") % {"state": bed.get_state_display()},
                code="bed",
            )
        if Stay.objects.filter(bed=bed, discharged_at__isnull=True).exists():
            raise Refusal(_("This bed is already occupied."), code="bed_taken")
        old = stay.bed
        stay.bed = bed
        try:
            with transaction.atomic():
                stay.save(update_fields=["bed"])
        except IntegrityError as exc:
            raise Refusal(_("This bed is already occupied."), code="bed_taken") from exc
        Bed.objects.filter(pk=old.pk).update(state=BedState.CLEANING)
        Bed.objects.filter(pk=bed.pk).update(state=BedState.FREE)
        BedMove.objects.create(stay=stay, from_bed=old, to_bed=bed, at=clock.now(), created_by=user)
        record(
            "inpatient_move",
            f"inpatient.stay:{stay.external_id}",
            to=str(bed),
            came_from=str(old),
        )
    return stay


def discharge(stay: Stay, user, at: datetime | None = None, note: str = "") -> rules.Settlement:
    """End the stay: unused paid days become a credit (refunded by the cashier), days
    beyond the plan are charged. An unpaid balance never stops a discharge."""
    require(user, "inpatient_admit")
    at = at or clock.now()
    with acting(user), transaction.atomic():
        stay = Stay.objects.select_for_update().get(pk=stay.pk)
        if not stay.is_open:
            raise Refusal(_("This stay has ended already."), code="closed")
        if at < stay.admitted_at:
            raise Refusal(_("Discharge cannot be before admission."), code="discharge_before")
        if at > clock.now():
            raise Refusal(_("Discharge cannot be in the future."))
        until = timezone.localdate(at)
        result = rules.settle(stay.admitted_on, until, stay.planned_days, stay.price_per_day)
        stay.discharged_at, stay.discharged_on = at, until
        stay.discharge_note = (note or "").strip()[:300]
        stay.save(update_fields=["discharged_at", "discharged_on", "discharge_note"])
        if result.credit:
            LedgerEntry.objects.create(
                stay=stay,
                kind=EntryKind.CREDIT,
                amount=result.credit,
                days=result.unused_days,
                at=at,
                note=_("Unused days at discharge"),
                created_by=user,
            )
        if result.extra_charge:
            LedgerEntry.objects.create(
                stay=stay,
                kind=EntryKind.CHARGE,
                amount=result.extra_charge,
                days=result.extra_days,
                at=at,
                note=_("Days beyond the plan"),
                created_by=user,
            )
        Bed.objects.filter(pk=stay.bed_id).update(state=BedState.CLEANING)
        record(
            "inpatient_discharge",
            f"inpatient.stay:{stay.external_id}",
            days_used=result.days_used,
            credit=result.credit,
            extra=result.extra_charge,
        )
    return result


def step_down(stay: Stay, user) -> Client:
    """Refer to community MMT in one click: an anonymous registry client with a new code and
    an open episode; identity is never copied (a person who gave it is already linked)."""
    require(user, "inpatient_admit")
    require(user, "enrol_client")
    with acting(user), transaction.atomic():
        stay = Stay.objects.select_for_update().select_related("person").get(pk=stay.pk)
        if stay.referred_client_id is not None:
            raise Refusal(_("This stay was referred to MMT already."), code="referred")
        person = stay.person
        try:
            if person.client_id is not None:
                client = person.client
                registry.re_enrol(client, clock.today(), user=user)
            else:
                client = registry.enrol_client(
                    alias=person.alias, sex=person.sex, birth_year=person.birth_year, user=user
                )
                person.client = client
                person.save(update_fields=["client"])
        except ValidationError as exc:
            raise Refusal(" ".join(exc.messages), code="enrol") from exc
        stay.referred_client = client
        stay.save(update_fields=["referred_client"])
        record(
            "inpatient_step_down",
            f"inpatient.stay:{stay.external_id}",
            client_code=client.code,
        )
    return client
