"""Care referrals: the overdue worklist, the partner list, and a client's care referrals."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.core import clock
from pingan.core.posting import refusals, run_form
from pingan.region.current import centre_id
from pingan.registry.models import Client

from . import actions, queries
from .forms import CareReferralForm, CompleteCareForm, PartnerForm
from .models import CareReferral, Partner


@require_GET
@requires("manage_care_referrals")
def worklist(request):
    today = clock.today()
    return render(
        request,
        "referrals/worklist.html",
        {
            "rows": queries.overdue_care(today, centre_id=centre_id(request)),
            "today": today,
            "complete_form": CompleteCareForm(initial={"completed_on": today}),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("manage_care_referrals")
def partners(request):
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form) as outcome:
            actions.add_partner(user=request.user, **form.cleaned_data)
        if not outcome.refused:
            messages.success(request, _("Partner organisation added."))
            return redirect("referrals:partners")
    return render(
        request,
        "referrals/partners.html",
        {"form": form, "partners": Partner.objects.all()},
        status=400 if form.errors else 200,
    )


def _client_page(request, client: Client, form=None, status: int = 200):
    can_manage = request.user.has_perm(perm("manage_care_referrals"))
    today = clock.today()
    return render(
        request,
        "referrals/client.html",
        {
            "client": client,
            "rows": client.care_referrals.select_related("partner"),
            "today": today,
            "form": (form or CareReferralForm()) if can_manage else None,
            "complete_form": CompleteCareForm(initial={"completed_on": today})
            if can_manage
            else None,
        },
        status=status,
    )


@require_GET
@requires("view_client")
def client(request, external_id):
    return _client_page(
        request,
        get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request)),
    )


@require_POST
@requires("manage_care_referrals")
def send(request, external_id):
    subject = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    form = CareReferralForm(request.POST)
    if form.is_valid():
        with refusals(request, form) as outcome:
            actions.send_care_referral(subject, user=request.user, **form.cleaned_data)
        if not outcome.refused:
            messages.success(request, _("Care referral sent."))
            return redirect("referrals:client", external_id=subject.external_id)
    return _client_page(request, subject, form=form, status=400)


@require_POST
@requires("manage_care_referrals")
def complete(request, external_id):
    referral = get_object_or_404(
        CareReferral.objects.select_related("client"),
        external_id=external_id,
        client__centre_id=centre_id(request),
    )
    form = CompleteCareForm(request.POST)
    back = request.POST.get("back") == "worklist"
    run_form(
        request,
        form,
        lambda d: actions.complete_care_referral(referral, user=request.user, **d),
        _("Care referral completed."),
    )
    if back:
        return redirect("referrals:worklist")
    return redirect("referrals:client", external_id=referral.client.external_id)
