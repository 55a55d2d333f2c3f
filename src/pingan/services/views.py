"""Screens for recording services: sessions with attendance, naloxone kits."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals
from pingan.region.current import centre_id, current_centre
from pingan.registry.models import Client

from . import actions, queries
from .forms import FollowUpForm, KitForm, SessionForm
from .models import NaloxoneKit, ServiceSession


@require_http_methods(["GET", "POST"])
@requires("record_service")
def sessions(request):
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form) as outcome:
            session = actions.record_session(
                kind=data["kind"],
                on=data["on"],
                staff=request.user,
                topic=data["topic"],
                group=data["group"],
                codes=actions.parse_codes(data["clients"]),
                user=request.user,
                centre=current_centre(request),
            )
        if not outcome.refused:
            messages.success(
                request,
                _("Session recorded with %(n)d client(s).") % {"n": session.attendance.count()},
            )
            return redirect("services:session", external_id=session.external_id)
    return render(
        request,
        "services/sessions.html",
        {"form": form, "sessions": queries.recent_sessions(centre_id=centre_id(request))},
        status=400 if form.errors else 200,
    )


@require_GET
@requires("record_service")
def session(request, external_id):
    row = get_object_or_404(
        ServiceSession.objects.select_related("staff"),
        external_id=external_id,
        centre_id=centre_id(request),
    )
    clients = Client.objects.filter(attendance__session=row).defer("photo").order_by("code")
    return render(request, "services/session.html", {"session": row, "clients": clients})


@require_http_methods(["GET", "POST"])
@requires("record_service")
def naloxone(request):
    form = KitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client = Client.objects.filter(
            code=data["code"].strip().upper(), centre_id=centre_id(request)
        ).first()
        if client is None:
            form.add_error("code", _("No client has this code."))
        else:
            with refusals(request, form) as outcome:
                actions.hand_out_naloxone(
                    client,
                    handed_on=data["handed_on"],
                    follow_up_on=data["follow_up_on"],
                    user=request.user,
                )
            if not outcome.refused:
                messages.success(
                    request, _("Naloxone kit recorded for %(code)s.") % {"code": client.code}
                )
                return redirect("services:naloxone")
    return render(
        request,
        "services/naloxone.html",
        {
            "form": form,
            "due": queries.kits_due_follow_up(centre_id=centre_id(request)),
            "recent": queries.kits(centre_id(request)).select_related("client", "by")[:50],
            "follow_up_form": FollowUpForm(),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@requires("record_service")
def kit_follow_up(request, external_id):
    kit = get_object_or_404(
        NaloxoneKit.objects.select_related("client"),
        external_id=external_id,
        client__centre_id=centre_id(request),
    )
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say whether the kit was used."))
    else:
        with refusals(request) as outcome:
            actions.record_kit_follow_up(
                kit,
                used=form.cleaned_data["used"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        if not outcome.refused:
            messages.success(request, _("Follow-up recorded."))
    return redirect("services:naloxone")
