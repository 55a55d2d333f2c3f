"""The drop-out worklist and its outreach records: thin (services/outreach.py)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.posting import refusals
from pingan.region.current import centre_id, in_centre
from pingan.registry.models import Client

from . import outreach
from .models import OutreachKind, OutreachOutcome, OutreachSettings


def _on(request, value: str | None) -> date:
    """The day asked for, or today (with a message) when it is not a day up to today."""
    today = clock.today()
    if not value:
        return today
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        messages.error(request, _("Not a date (YYYY-MM-DD): showing today."))
        return today
    if day > today:
        messages.error(request, _("The worklist cannot be drawn for a future day: showing today."))
        return today
    return day


@require_GET
@requires(outreach.VIEW_PERMISSION)
def dropouts(request):
    on = _on(request, request.GET.get("on"))
    return render(
        request,
        "services/dropouts.html",
        {
            "on": on,
            "today": clock.today(),
            "rows": outreach.worklist(on, centre_id=centre_id(request)),
            "threshold": OutreachSettings.current().missed_days,
            "kinds": OutreachKind.choices,
            "outcomes": OutreachOutcome.choices,
        },
    )


@require_POST
@requires(outreach.RECORD_PERMISSION)
def record(request, external_id):
    client = get_object_or_404(
        Client.objects.defer("photo"), external_id=external_id, centre_id=centre_id(request)
    )
    p = request.POST
    with refusals(request) as result:
        outreach.record_outreach(
            client,
            p.get("on"),
            p.get("kind"),
            p.get("outcome"),
            p.get("next_step"),
            request.user,
            note=p.get("note"),
        )
    if not result.refused:
        messages.success(request, _("Outreach recorded for %(code)s.") % {"code": client.code})
    return redirect(reverse("services:dropouts") + "?on=" + (p.get("back_on") or "")[:10])


@require_POST
@requires(outreach.RECORD_PERMISSION)
def reminder(request, external_id):
    client = get_object_or_404(
        in_centre(request, Client.objects.defer("photo"), "centre"), external_id=external_id
    )
    with refusals(request) as result:
        outreach.send_reminder(client, request.user)
    if not result.refused:
        messages.success(request, _("Reminder text queued for %(code)s.") % {"code": client.code})
    return redirect(
        reverse("services:dropouts") + "?on=" + (request.POST.get("back_on") or "")[:10]
    )


@require_POST
@requires("manage_staff")
def threshold(request):
    with refusals(request) as result:
        outreach.set_missed_days(request.POST.get("missed_days"), request.user)
    if not result.refused:
        messages.success(request, _("The worklist setting is saved."))
    return redirect("services:dropouts")
