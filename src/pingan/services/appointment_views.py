"""A client's appointments: list, make one, mark one done or cancelled. Thin
(services/appointments.py reads and checks, services/actions.py writes)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.domain import permission
from pingan.core.posting import refusals
from pingan.region.current import in_centre
from pingan.registry.models import Client

from . import actions, appointments
from .models import Appointment, AppointmentKind, AppointmentState


class AppointmentForm(forms.Form):
    """What staff type; the action checks it (appointments.problems) and names each
    problem on its field."""

    on = forms.CharField(label=_("Day"), max_length=40, required=False)
    kind = forms.CharField(label=_("For"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


@require_http_methods(["GET", "POST"])
@requires(appointments.VIEW_PERMISSION)
def client(request, external_id):
    """GET lists the client's appointments; POST (record_service) makes one."""
    person = get_object_or_404(
        in_centre(request, Client.objects.defer("photo"), "centre"), external_id=external_id
    )
    form = AppointmentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(permission(appointments.RECORD_PERMISSION)):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            with refusals(request, form) as outcome:
                item = actions.make_appointment(
                    person, on=data["on"], kind=data["kind"], note=data["note"], user=request.user
                )
            if not outcome.refused:
                messages.success(
                    request,
                    _("Appointment set for %(code)s on %(day)s: %(kind)s.")
                    % {
                        "code": person.code,
                        "day": item.on.isoformat(),
                        "kind": item.get_kind_display(),
                    },
                )
                return redirect("services:appointments", external_id=person.external_id)
    today = clock.today()
    return render(
        request,
        "services/appointments.html",
        {
            "client": person,
            "today": today,
            "rows": appointments.for_client(person),
            "kinds": AppointmentKind.choices,
            "form": form,
            "day": form.data.get("on") or today.isoformat(),
            "planned": AppointmentState.PLANNED,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@requires(appointments.RECORD_PERMISSION)
def close(request, external_id):
    item = get_object_or_404(
        in_centre(request, Appointment.objects.select_related("client")), external_id=external_id
    )
    with refusals(request) as outcome:
        actions.close_appointment(item, state=request.POST.get("state"), user=request.user)
    if not outcome.refused:
        messages.success(request, _("Appointment updated."))
    return redirect("services:appointments", external_id=item.client.external_id)
