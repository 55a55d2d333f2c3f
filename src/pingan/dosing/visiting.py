"""Guests from outside the installation: a signed guest slip read at the host, the dose
return the host writes, and the return read back at home (docs/region.md, "Guests from
outside the installation").

Each action verifies the file first (`region.slips`, against the stored key list of
`outside_keys`) and then writes everything in one transaction, or nothing: a refused file
leaves no row behind.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.keys import signing_key
from pingan.audit.log import record
from pingan.audit.signals import target_of
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
from pingan.core.models import Centre
from pingan.region import signed, slips
from pingan.registry.models import Client, Episode

from .limits import MAX_MG, MIN_MG
from .models import (
    Dose,
    DoseKind,
    DoseReturnReceived,
    GuestSlip,
    Hold,
    HoldKind,
    Prescription,
    ReturnedDose,
    VisitingGuest,
)
from .outside_keys import key_list
from .slip_photos import stored_photo
from .stock import insert_row

# The account a prescription names when a slip is imported by the centre's operator: the
# dose was set by the home centre's clinician, not by anyone here.
SLIP_ACCOUNT = "pingan-guest-slips"
# The local record of a guest from outside has no name, sex or birth year: the slip
# carries none. These stand for "not known".
UNKNOWN_SEX, UNKNOWN_BIRTH_YEAR = "X", 1900
DOSE_ON_CONFLICT = "ON CONFLICT (client_id, date) DO NOTHING"


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except (TypeError, ValueError, AttributeError):
        raise Refusal(
            _("The slip's field %(field)s is missing or malformed.") % {"field": what},
            code="malformed",
        ) from None


def _prescriber(by):
    if by is not None and getattr(by, "is_authenticated", False):
        return by
    user, created = get_user_model().objects.get_or_create(
        username=SLIP_ACCOUNT, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def local_code(home_centre: str, client_code: str) -> str:
    """The code of a guest's local record at the host: `<home centre>:<client code>`."""
    return f"{home_centre}:{client_code}"


# At the host -------------------------------------------------------------------------------


def import_slip(data: bytes, host: Centre, by=None) -> VisitingGuest:
    """Read a slip file signed by a centre outside the installation and let `host` dose its
    client within the slip's terms. Refused, nothing written, when the file does not verify
    (`slips.read_slip`: changed, unknown key, another host, expired, not yet valid, over 30
    days), when its photo is not a JPEG, when the slip was imported before, or when its
    days overlap another of the client's slips here. The slip's photo becomes the local
    record's (a later slip's photo replaces it; an empty one leaves it)."""
    require(by, "prescribe")
    slip = slips.read_slip(data, key_list(), host.code, clock.now(), clock.today())
    slip_id = _uuid(slip.slip_id, "slip_id")
    photo = stored_photo(slip.photo_jpeg_b64)
    code = local_code(slip.home_centre, slip.client_code)
    if len(code) > Client._meta.get_field("code").max_length:
        raise Refusal(
            _("The slip's field %(field)s is missing or malformed.") % {"field": "client_code"},
            code="malformed",
        )
    if not MIN_MG <= slip.dose_mg <= MAX_MG:
        raise Refusal(
            _("The dose must be between %(min)d and %(max)d mg.") % {"min": MIN_MG, "max": MAX_MG},
            code="malformed",
        )
    with acting(by), transaction.atomic():
        prescriber = _prescriber(by)
        if VisitingGuest.objects.filter(slip_id=slip_id).exists():
            raise Refusal(
                _("This slip was imported already: each slip is accepted once."), code="replayed"
            )
        client = Client.objects.filter(centre=host, code=code).first()
        if client is None:
            client = Client.objects.create(
                centre=host,
                code=code,
                alias=code,
                sex=UNKNOWN_SEX,
                birth_year=UNKNOWN_BIRTH_YEAR,
                photo=photo,
                created_by=by if prescriber is by else None,
            )
        else:
            client = Client.objects.select_for_update().defer("photo").get(pk=client.pk)
            if photo:
                client.photo = photo
                client.save(update_fields=["photo"])
        clash = VisitingGuest.objects.filter(
            client=client, valid_from__lte=slip.valid_to, valid_to__gte=slip.valid_from
        ).first()
        if clash is not None:
            raise Refusal(
                _("These days overlap another guest slip (%(first)s to %(last)s).")
                % {"first": clash.valid_from.isoformat(), "last": clash.valid_to.isoformat()},
                code="overlap",
            )
        _open_episode(client, slip.valid_from)
        _prescribe(client, slip, prescriber)
        holds = _place_holds(client, slip)
        visit = VisitingGuest.objects.create(
            client=client,
            slip_id=slip_id,
            home_centre=slip.home_centre,
            home_client_code=slip.client_code,
            valid_from=slip.valid_from,
            valid_to=slip.valid_to,
            dose_mg=slip.dose_mg,
            last_dose_on=slip.last_dose_on,
            takehome=slip.takehome[:200],
            holds=",".join(slip.holds)[:300],
            issued_at=slip.issued_at,
            signed_file=bytes(data),
            imported_at=clock.now(),
        )
        record(
            "guest_slip_imported",
            target=str(slip_id),
            centre=host.pk,
            client_code=code,
            home_centre=slip.home_centre,
            host=host.code,
            valid_from=slip.valid_from,
            valid_to=slip.valid_to,
            mg=slip.dose_mg,
            last_dose_on=slip.last_dose_on,
            holds=list(slip.holds),
            photo=bool(photo),
            rows=[target_of(visit), *[target_of(h) for h in holds]],
        )
    return visit


def _open_episode(client: Client, first_day: date) -> None:
    if not Episode.objects.filter(client=client, discharged_on__isnull=True).exists():
        Episode.objects.create(client=client, centre_id=client.centre_id, enrolled_on=first_day)


def _prescribe(client: Client, slip: slips.GuestSlip, prescriber) -> None:
    """The slip's dose, from its first day; an earlier slip's prescription is superseded."""
    current = Prescription.objects.filter(client=client, superseded_at__isnull=True).first()
    if current is not None:
        current.superseded_at = clock.now()
        current.save(update_fields=["superseded_at"])
    Prescription.objects.create(
        client=client,
        mg=slip.dose_mg,
        start_on=slip.valid_from,
        clinician=prescriber,
        reason=_("Guest slip %(slip)s from %(home)s")
        % {"slip": slip.slip_id, "home": slip.home_centre},
    )


def _place_holds(client: Client, slip: slips.GuestSlip) -> list[Hold]:
    """The home centre's open holds, placed here too: a known kind as itself, any other as
    one hold "other" naming them. A kind already open here stays as it is."""
    by_kind: dict[str, list[str]] = {}
    for kind in slip.holds:
        mine = kind if kind in HoldKind.values else HoldKind.OTHER
        by_kind.setdefault(mine, []).append(kind)
    placed = []
    for kind, names in by_kind.items():
        if Hold.objects.filter(client=client, kind=kind, cleared_at__isnull=True).exists():
            continue
        reason = _("Hold at the home centre %(home)s: %(kinds)s") % {
            "home": slip.home_centre,
            "kinds": ", ".join(names),
        }
        placed.append(Hold.objects.create(client=client, kind=kind, reason=reason[:300]))
    return placed


def visits_for_return(slip_id: str | None = None):
    """The visits a return is written for: the one slip named, or every imported one."""
    visits = VisitingGuest.objects.select_related("client__centre").order_by("valid_from", "pk")
    if slip_id is not None:
        visits = visits.filter(slip_id=_uuid(slip_id, "slip_id"))
        if not visits.exists():
            raise Refusal(_("No guest slip with this id was imported here."), code="unknown_slip")
    return list(visits)


def write_return(visit: VisitingGuest, by=None) -> tuple[bytes, slips.DoseReturn]:
    """The signed `pingan-dose-return/1` file of the doses given here under `visit`'s slip
    (a later return repeats the earlier doses and adds the new ones)."""
    require(by, "record_dose", "prescribe", any_of=True)
    doses = Dose.objects.filter(
        client=visit.client, date__gte=visit.valid_from, date__lte=visit.valid_to
    ).order_by("date")
    returned = slips.DoseReturn(
        return_id=str(uuid.uuid4()),
        slip_id=str(visit.slip_id),
        host_centre=visit.client.centre.code,
        home_centre=visit.home_centre,
        client_code=visit.home_client_code,
        doses=tuple(slips.ReturnedDose(d.date, d.mg, d.given_at) for d in doses),
    )
    data = signed.sign(returned.document(), signed.centre_key(signing_key(), returned.host_centre))
    with acting(by), transaction.atomic():
        record(
            "guest_return_written",
            target=returned.return_id,
            centre=visit.client.centre_id,
            client_code=visit.client.code,
            slip_id=returned.slip_id,
            home_centre=visit.home_centre,
            days=[d.day for d in returned.doses],
        )
    return data, returned


# At home -----------------------------------------------------------------------------------


def _slip_terms(slip: GuestSlip) -> slips.GuestSlip:
    """A stored slip for an outside host, as `region.slips` compares a return with it."""
    return slips.GuestSlip(
        slip_id=str(slip.external_id),
        home_centre=slip.client.centre.code,
        host_centre=slip.outside_host,
        client_code=slip.client.code,
        valid_from=slip.valid_from,
        valid_to=slip.valid_to,
        dose_mg=slip.dose_mg,
        last_dose_on=None,
        takehome="",
        holds=(),
        issued_at=slip.issued_at,
    )


def import_return(data: bytes, by=None, home: Centre | None = None) -> DoseReturnReceived:
    """Read a dose return signed by a centre outside the installation and record its doses
    on the home client's record. Refused, nothing written, when the file does not verify,
    answers no slip this installation (or, with `home`, this centre) issued to that host,
    was imported before, or has a dose outside the slip's days, above its dose, or on a day
    the client already has another dose. A later return of the same slip repeats the doses
    recorded from an earlier one; those must agree and are not written twice."""
    require(by, "prescribe")
    keys = key_list()
    document = signed.open_signed(data, keys, signer_field="host_centre")
    slip_id = _uuid(document.get("slip_id"), "slip_id")
    slip = (
        GuestSlip.objects.select_related("client__centre")
        .defer("client__photo")
        .filter(external_id=slip_id, host__isnull=True)
        .first()
    )
    if slip is None:
        raise Refusal(
            _("The dose return answers no guest slip this installation issued."),
            code="unknown_slip",
        )
    if home is not None and slip.client.centre_id != home.pk:
        raise Refusal(
            _("The dose return answers a guest slip another centre issued, not this one."),
            code="other_centre",
        )
    returned = slips.read_return(data, keys, slip.client.centre.code, _slip_terms(slip))
    return_id = _uuid(returned.return_id, "return_id")
    with acting(by), transaction.atomic():
        client = Client.objects.select_for_update().defer("photo").get(pk=slip.client_id)
        if DoseReturnReceived.objects.filter(return_id=return_id).exists():
            raise Refusal(
                _("This dose return was imported already: each is accepted once."),
                code="replayed",
            )
        received = DoseReturnReceived.objects.create(
            return_id=return_id,
            slip=slip,
            host_code=returned.host_centre,
            signed_file=bytes(data),
            received_at=clock.now(),
        )
        rows, days = [target_of(received)], []
        for item in returned.doses:
            written = _returned_dose(client, slip, returned, return_id, item)
            if written is not None:
                rows += [target_of(written.dose), target_of(written)]
                days.append(item.day)
        record(
            "guest_return_imported",
            target=str(return_id),
            centre=client.centre_id,
            client_code=client.code,
            slip_id=str(slip_id),
            host=returned.host_centre,
            days=days,
            rows=rows,
        )
    return received


def _returned_dose(client, slip, returned, return_id, item) -> ReturnedDose | None:
    existing = Dose.objects.filter(client=client, date=item.day).first()
    if existing is not None:
        earlier = ReturnedDose.objects.filter(dose=existing, slip=slip).exists()
        if earlier and existing.mg == item.mg:
            return None  # recorded from an earlier return of this slip
        raise Refusal(
            _("The client already has a dose on %(day)s: the return is refused whole.")
            % {"day": item.day.isoformat()},
            code="already_dosed",
        )
    dose = Dose(
        client=client,
        date=item.day,
        kind=DoseKind.GUEST,
        mg=item.mg,
        mg_in_clinic=item.mg,
        mg_taken_home=0,
        # Measured by the host from its own stock: nothing left this installation's, so
        # no strength, volume or stock line here.
        strength_mg_per_ml=0,
        volume_ml=0,
        given_at=item.given_at,
        note=_("Given at %(host)s, outside the installation") % {"host": returned.host_centre},
        centre=None,
    )
    if not insert_row(dose, on_conflict=DOSE_ON_CONFLICT):
        raise Refusal(
            _("The client already has a dose on %(day)s: the return is refused whole.")
            % {"day": item.day.isoformat()},
            code="already_dosed",
        )
    return ReturnedDose.objects.create(
        dose=dose, slip=slip, host_code=returned.host_centre, return_id=return_id
    )
