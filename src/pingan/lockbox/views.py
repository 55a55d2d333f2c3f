"""Screens of the lockbox app: issue (secret shown once, with a QR code for provisioning),
list and retire boxes, the client's home area, settings, and the alert list."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals, run_form
from pingan.region.current import centre_id
from pingan.registry.actions import live_consents
from pingan.registry.models import Client, Purpose

from . import actions, queries
from .forms import AcknowledgeForm, GeofenceForm, IssueForm, RetireForm, SettingsForm
from .models import Box, BoxAlert, HomeGeofence, LockboxSettings


def provisioning_qr(label: str, secret: str) -> str:
    """An inline SVG QR code the provisioning tool scans into the box."""
    image = qrcode.make(
        f"pingan-box:v1?box={label}&secret={secret}", image_factory=qrcode.image.svg.SvgPathImage
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


@requires("manage_boxes")
def box_list(request):
    show_retired = request.GET.get("retired") == "1"
    return render(
        request,
        "lockbox/list.html",
        {
            "boxes": queries.boxes(include_retired=show_retired, centre_id=centre_id(request)),
            "show_retired": show_retired,
            "retire_form": RetireForm(),
        },
    )


@requires("manage_boxes")
@never_cache
def issue(request):
    form = IssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = Client.objects.filter(
            code=form.cleaned_data["client_code"].strip(), centre_id=centre_id(request)
        ).first()
        if client is None:
            form.add_error("client_code", _("No client with this code."))
        else:
            with refusals(request, form) as outcome:
                issued = actions.issue_box(client, request.user)
            if not outcome.refused:
                # Rendered, not redirected: the secret must not travel through a session.
                return render(
                    request,
                    "lockbox/issued.html",
                    {
                        "box": issued.box,
                        "secret": issued.secret,
                        "qr": mark_safe(provisioning_qr(issued.box.label, issued.secret)),  # noqa: S308 - our own SVG
                    },
                )
    return render(request, "lockbox/issue.html", {"form": form}, status=400 if form.errors else 200)


@requires("manage_boxes")
@require_POST
def retire(request, external_id):
    box = get_object_or_404(Box, external_id=external_id, centre_id=centre_id(request))
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for retiring the box."))
        return redirect("lockbox:list")
    with refusals(request) as outcome:
        actions.retire_box(box, form.cleaned_data["reason"], request.user)
    if not outcome.refused:
        messages.success(request, _("Box %(box)s retired.") % {"box": box.label})
    return redirect("lockbox:list")


@requires("manage_boxes")
def geofence(request, external_id):
    client = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    consented = Purpose.BOX_LOCATION in live_consents(client)
    current = HomeGeofence.objects.filter(client=client).first()
    form = GeofenceForm(request.POST or None)
    if request.method == "POST" and consented and form.is_valid():
        with refusals(request, form) as outcome:
            actions.set_home_geofence(
                client, form.cleaned_data["centre"], form.cleaned_data["radius_m"], request.user
            )
        if not outcome.refused:
            messages.success(request, _("Home area saved for %(code)s.") % {"code": client.code})
            return redirect("lockbox:geofence", external_id=client.external_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "lockbox/geofence.html",
        {"subject": client, "consented": consented, "current": current, "form": form},
        status=status,
    )


@requires("manage_boxes", "manage_messaging")
def settings_view(request):
    row = LockboxSettings.current()
    form = SettingsForm(
        request.POST or None,
        initial={"sms_hour": row.sms_hour, "location_retention_days": row.location_retention_days},
    )

    def save(d):
        actions.update_settings(d["sms_hour"], d["location_retention_days"], request.user)

    if request.method == "POST" and run_form(
        request, form, save, _("Settings saved."), on_form=True
    ):
        return redirect("lockbox:settings")
    return render(
        request, "lockbox/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@requires("view_box_alerts")
def alerts(request):
    return render(
        request,
        "lockbox/alerts.html",
        {
            "alerts": queries.open_alerts(centre_id=centre_id(request)),
            "done": queries.recent_acknowledged(centre_id=centre_id(request)),
            "form": AcknowledgeForm(),
        },
    )


@requires("view_box_alerts")
@require_POST
def acknowledge(request, external_id):
    alert = get_object_or_404(BoxAlert, external_id=external_id, box__centre_id=centre_id(request))
    form = AcknowledgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    actions.acknowledge_alert(alert, request.user, note)
    messages.success(request, _("Alert acknowledged."))
    return redirect("lockbox:alerts")
