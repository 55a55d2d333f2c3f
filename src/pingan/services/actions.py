"""Recording services: one transaction each, audited. A group session's attendance is
written all or nothing: one unknown client code and no session or attendance is kept."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import acting, require
from pingan.registry.models import Client

from . import appointments
from .models import (
    Appointment,
    AppointmentState,
    Attendance,
    KitUse,
    NaloxoneKit,
    ServiceKind,
    ServiceSession,
)

# When to ask whether a naloxone kit was used, if the staff member gives no date.
NALOXONE_FOLLOW_UP_DAYS = 30
MAX_GROUP = 200
_SPLIT = re.compile(r"[\s,，;；、]+")


def _target(obj) -> str:
    return f"services.{obj._meta.model_name}:{obj.external_id}"


def parse_codes(text: str) -> list[str]:
    """Client codes as typed or scanned: separated by spaces, commas (also full-width) or
    new lines; upper-cased; each once, in the order given."""
    seen: dict[str, None] = {}
    for part in _SPLIT.split(text.strip()):
        if part:
            seen.setdefault(part.upper(), None)
    return list(seen)


def resolve_clients(codes: list[str], centre=None) -> tuple[list[Client], list[str]]:
    """The clients for the codes (of `centre` when given: codes are unique per centre), and
    the codes that match nobody."""
    rows = Client.objects.filter(code__in=codes).defer("photo")
    if centre is not None:
        rows = rows.filter(centre=centre)
    found = {c.code: c for c in rows}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


def record_session(
    *,
    kind: str,
    on: date,
    staff,
    topic: str,
    group: bool,
    codes: list[str],
    user,
    centre=None,
) -> ServiceSession:
    """A session of `centre` (the installation's when not given) and one attendance row per
    client of that centre, or nothing at all with every reason."""
    require(user, "record_service")
    errors: dict[str, str] = {}
    if kind not in ServiceKind.values:
        errors["kind"] = _("Choose a service.")
    if on > clock.today():
        errors["on"] = _("A session cannot be recorded in the future.")
    clients, unknown = resolve_clients(codes, centre)
    if not codes:
        errors["clients"] = _("Enter the code of at least one client who attended.")
    elif unknown:
        errors["clients"] = _(
            "No client has these codes: %(codes)s. Nothing was recorded; correct the list."
        ) % {"codes": ", ".join(unknown)}
    elif not group and len(clients) != 1:
        errors["clients"] = _(
            "A one-to-one session has exactly one client; tick “group session” for more."
        )
    elif len(clients) > MAX_GROUP:
        errors["clients"] = _("At most %(n)d clients per session.") % {"n": MAX_GROUP}
    if errors:
        raise ValidationError(errors)
    with acting(user), transaction.atomic():
        session = ServiceSession.objects.create(
            **({"centre": centre} if centre is not None else {}),
            kind=kind,
            date=on,
            staff=staff,
            group=group,
            topic=topic.strip()[:200],
            created_by=user,
        )
        Attendance.objects.bulk_create([Attendance(session=session, client=c) for c in clients])
        record(
            "service_session",
            target=_target(session),
            kind=kind,
            on=on.isoformat(),
            clients=[c.code for c in clients],
        )
    return session


def hand_out_naloxone(
    client: Client, *, handed_on: date, follow_up_on: date | None = None, user
) -> NaloxoneKit:
    require(user, "record_service")
    errors: dict[str, str] = {}
    if handed_on > clock.today():
        errors["handed_on"] = _("A kit cannot be handed out in the future.")
    follow_up = follow_up_on or handed_on + timedelta(days=NALOXONE_FOLLOW_UP_DAYS)
    if follow_up < handed_on:
        errors["follow_up_on"] = _("The follow-up cannot be before the hand-out.")
    if errors:
        raise ValidationError(errors)
    with acting(user), transaction.atomic():
        kit = NaloxoneKit.objects.create(
            client=client, handed_on=handed_on, by=user, follow_up_on=follow_up, created_by=user
        )
        record(
            "naloxone_kit", target=_target(kit), client_code=client.code, on=handed_on.isoformat()
        )
    return kit


def record_kit_follow_up(kit: NaloxoneKit, *, used: str, note: str, user) -> NaloxoneKit:
    require(user, "record_service")
    if used not in KitUse.values:
        raise ValidationError({"used": _("Say whether the kit was used.")})
    with acting(user), transaction.atomic():
        current = NaloxoneKit.objects.select_for_update().get(pk=kit.pk)
        current.used = used
        current.outcome_note = note.strip()[:300]
        current.save(update_fields=["used", "outcome_note"])
        record(
            "naloxone_follow_up",
            target=_target(current),
            client_code=current.client.code,
            used=used,
        )
    kit.refresh_from_db()
    return kit


def make_appointment(client: Client, *, on, kind: str | None, note: str | None, user):
    """An appointment for `client` on a day from today on; every problem with what was
    typed is named at once, and nothing is written with any (services/appointments.py)."""
    require(user, appointments.RECORD_PERMISSION)
    errors = appointments.problems(on, kind, note, clock.today())
    if errors:
        raise ValidationError(errors)
    day = on if isinstance(on, date) else date.fromisoformat(on.strip())
    with acting(user), transaction.atomic():
        item = Appointment.objects.create(
            client=client, on=day, kind=kind, note=(note or "").strip(), created_by=user
        )
        record(
            "appointment_made",
            target=_target(item),
            client_code=client.code,
            on=day.isoformat(),
            kind=kind,
        )
    return item


def close_appointment(appointment, *, state: str | None, user):
    """Mark a planned appointment done or cancelled; a closed one stays as it was."""
    require(user, appointments.RECORD_PERMISSION)
    if state not in (AppointmentState.DONE, AppointmentState.CANCELLED):
        raise ValidationError({"state": _("Choose whether the appointment was done or cancelled.")})
    with acting(user), transaction.atomic():
        current = (
            Appointment.objects.select_for_update().select_related("client").get(pk=appointment.pk)
        )
        if current.state != AppointmentState.PLANNED:
            raise ValidationError(
                _("This appointment is already %(state)s.")
                % {"state": current.get_state_display().lower()}
            )
        current.state = state
        current.closed_at = clock.now()
        current.closed_by = user
        current.save(update_fields=["state", "closed_at", "closed_by"])
        record(
            "appointment_closed",
            target=_target(current),
            client_code=current.client.code,
            on=current.on.isoformat(),
            state=state,
        )
    return current
