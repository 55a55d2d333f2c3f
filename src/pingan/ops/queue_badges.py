"""What other apps tell the nurse on the dosing queue, composed here, in the top layer,
because dosing may import none of them (docs/architecture.md, "Layers"):

- labs: the client is drawn for a random urine test today (or has given it already);
- takehome: take-home is suspended by a clinician (with the reason and review day);
- services: an appointment on this day (clinician review, a sample, counselling).

Each provider reads its app's own queries once for all the queue's clients; `install`
registers them with `pingan.dosing.badges` when the apps start (`OpsConfig.ready`)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from pingan.dosing import badges
from pingan.dosing.badges import Badge
from pingan.labs.models import ScheduledUrineTest
from pingan.services import appointments
from pingan.takehome import suspensions


def urine_tests(day: date, client_ids: list[int]) -> dict[int, list[Badge]]:
    found: dict[int, list[Badge]] = {}
    drawn = ScheduledUrineTest.objects.filter(on=day, client_id__in=client_ids)
    for client_id, sample_id in drawn.values_list("client_id", "sample_id"):
        if sample_id is None:
            badge = Badge("urine", _("Urine test today"), tone="warn")
        else:
            badge = Badge("urine", _("Urine test given"), tone="ok")
        found.setdefault(client_id, []).append(badge)
    return found


def takehome_suspended(day: date, client_ids: list[int]) -> dict[int, list[Badge]]:
    return {
        client_id: [
            Badge(
                "takehome_suspended",
                _("Take-home suspended"),
                suspensions.describe(suspension),
                "hold",
            )
        ]
        for client_id, suspension in suspensions.standing_for(client_ids).items()
    }


def appointments_today(day: date, client_ids: list[int]) -> dict[int, list[Badge]]:
    return {
        client_id: [
            Badge(
                "appointment",
                _("Appointment: %(kind)s") % {"kind": item.get_kind_display()},
                item.note,
                "info",
            )
            for item in items
        ]
        for client_id, items in appointments.on_day(day, client_ids).items()
    }


def install() -> None:
    badges.register("labs.urine", urine_tests)
    badges.register("takehome.suspension", takehome_suspended)
    badges.register("services.appointment", appointments_today)
