"""Appointments: a day set for a client to see the clinician, give a urine or other
sample, or talk with a counsellor (docs/outreach.md, "Appointments").

Here are the reads (a client's appointments, the planned ones of a day for the nurse's
queue) and the checks of what staff typed; making and closing one are actions
(`actions.make_appointment`, `actions.close_appointment`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.utils.translation import gettext as _

from .models import Appointment, AppointmentKind, AppointmentState

VIEW_PERMISSION = "view_client"
RECORD_PERMISSION = "record_service"
# A day further ahead than this is a typing slip more often than a plan.
LONGEST_AHEAD_DAYS = 365
NOTE_LIMIT = 300


def problems(on: date | str | None, kind: str | None, note: str | None, today: date) -> dict:
    """What is wrong with an appointment as typed, by field (empty when nothing is)."""
    found: dict[str, str] = {}
    day = on
    if isinstance(on, str):
        try:
            day = date.fromisoformat(on.strip()) if on.strip() else None
        except ValueError:
            found["on"] = _("“%(value)s” is not a date: enter the day as YYYY-MM-DD.") % {
                "value": on.strip()[:40]
            }
            day = None
    if "on" not in found:
        if day is None:
            found["on"] = _("Enter the day of the appointment.")
        elif day < today:
            found["on"] = _(
                "The day %(day)s is in the past: an appointment is for today or later."
            ) % {"day": day.isoformat()}
        elif day > today + timedelta(days=LONGEST_AHEAD_DAYS):
            found["on"] = _("Set the appointment within a year, by %(last)s at the latest.") % {
                "last": (today + timedelta(days=LONGEST_AHEAD_DAYS)).isoformat()
            }
    if kind not in AppointmentKind.values:
        found["kind"] = _(
            "Choose what the appointment is for: clinician review, urine test, other lab "
            "test or counselling."
        )
    if len((note or "").strip()) > NOTE_LIMIT:
        found["note"] = _("Keep the note to %(n)d characters or fewer.") % {"n": NOTE_LIMIT}
    return found


def for_client(client, limit: int = 30) -> list[Appointment]:
    """The client's appointments, the planned ones first (soonest on top), then the rest."""
    found = Appointment.objects.filter(client=client).select_related("created_by", "closed_by")
    planned = list(found.filter(state=AppointmentState.PLANNED).order_by("on", "pk")[:limit])
    closed = list(found.exclude(state=AppointmentState.PLANNED).order_by("-on", "-pk")[:limit])
    return planned + closed


def on_day(day: date, client_ids: Iterable[int] | None = None) -> dict[int, list[Appointment]]:
    """The planned appointments of `day`, by client id (one query; for the nurse's queue)."""
    found = Appointment.objects.filter(on=day, state=AppointmentState.PLANNED)
    if client_ids is not None:
        found = found.filter(client_id__in=list(client_ids))
    by_client: dict[int, list[Appointment]] = {}
    for item in found.order_by("kind", "pk"):
        by_client.setdefault(item.client_id, []).append(item)
    return by_client
