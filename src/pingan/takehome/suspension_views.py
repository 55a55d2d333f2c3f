"""Screens that suspend take-home and lift a suspension: thin, the clinician's. The
suspension itself is shown on the take-home queue, the client's page and the request's."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals
from pingan.region.current import in_centre
from pingan.registry.models import Client

from . import actions
from .models import Suspension


@require_POST
@requires("decide_takehome")
def suspend(request: HttpRequest, external_id) -> HttpResponse:
    person = get_object_or_404(
        in_centre(request, Client.objects.defer("photo"), "centre"), external_id=external_id
    )
    with refusals(request) as outcome:
        actions.suspend_takehome(
            person, request.POST.get("reason"), request.POST.get("review_on"), request.user
        )
    if not outcome.refused:
        messages.success(request, _("Take-home is suspended."))
    return redirect("takehome:client", external_id=external_id)


@require_POST
@requires("decide_takehome")
def lift(request: HttpRequest, external_id) -> HttpResponse:
    found = get_object_or_404(
        in_centre(request, Suspension.objects.select_related("client")), external_id=external_id
    )
    with refusals(request) as outcome:
        actions.lift_suspension(found, request.POST.get("note"), request.user)
    if not outcome.refused:
        messages.success(request, _("The suspension is lifted."))
    return redirect("takehome:client", external_id=found.client.external_id)
