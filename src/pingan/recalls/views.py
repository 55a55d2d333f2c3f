"""The centre's recall screens: the list, the draw, a client phoned, a return counted. Thin:
each gathers the input and calls one action (recalls/actions.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals
from pingan.region.current import centre_id, current_centre
from pingan.registry.models import Client

from . import actions, queries
from .models import Recall, RecallDraw

VIEW_PERMISSION = "view_client"


@require_GET
@requires(VIEW_PERMISSION)
def recall_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "recalls/list.html",
        {
            "rows": queries.centre_list(centre_id=centre_id(request)),
            "draws": RecallDraw.objects.filter(centre_id=centre_id(request))[:8],
            "share": queries.share(),
        },
    )


@require_POST
@requires(*actions.DRAW_PERMISSIONS, any_of=True)
def draw(request: HttpRequest) -> HttpResponse:
    centre = current_centre(request)
    if centre is None:
        messages.error(request, _("You work in no centre: there is nobody to draw."))
        return redirect("recalls:list")
    with refusals(request) as outcome:
        done = actions.draw_week(None, request.user, centre=centre)
    if not outcome.refused:
        messages.success(
            request,
            ngettext(
                "Week %(week)s drawn: %(n)d client recalled.",
                "Week %(week)s drawn: %(n)d clients recalled.",
                len(done.recalls),
            )
            % {"week": done.draw.week, "n": len(done.recalls)},
        )
    return redirect("recalls:list")


@require_POST
@requires("decide_takehome")
def recall_client(request: HttpRequest, external_id) -> HttpResponse:
    person = get_object_or_404(
        Client.objects.defer("photo"), external_id=external_id, centre_id=centre_id(request)
    )
    with refusals(request) as outcome:
        actions.recall_client(person, request.user)
    if not outcome.refused:
        messages.success(request, _("%(code)s is recalled.") % {"code": person.code})
    return redirect("recalls:list")


@require_POST
@requires(actions.RETURN_PERMISSION, "decide_takehome", any_of=True)
def phoned(request: HttpRequest, external_id) -> HttpResponse:
    found = get_object_or_404(Recall, external_id=external_id, client__centre_id=centre_id(request))
    with refusals(request) as outcome:
        actions.mark_phoned(found, request.user)
    if not outcome.refused:
        messages.success(request, _("Recorded: the client was phoned."))
    return redirect("recalls:list")


@require_http_methods(["GET", "POST"])
@requires(actions.RETURN_PERMISSION)
def record_return(request: HttpRequest, external_id) -> HttpResponse:
    found = get_object_or_404(
        Recall.objects.select_related("client"),
        external_id=external_id,
        client__centre_id=centre_id(request),
    )
    if request.method == "POST":
        p = request.POST
        with refusals(request) as outcome:
            done = actions.record_return(
                found, p.get("bottles"), p.get("ml"), request.user, note=p.get("note")
            )
        if not outcome.refused:
            if done.suspension_id:
                messages.warning(
                    request,
                    _("The return is short: an incident, and take-home is suspended for review."),
                )
            else:
                messages.success(request, _("Return recorded in full."))
            return redirect("recalls:list")
    return render(
        request,
        "recalls/return.html",
        {
            "recall": found,
            "expected": queries.expected(found.client),
            "due_at": queries.due_at(found),
            "values": request.POST if request.method == "POST" else {},
        },
    )
