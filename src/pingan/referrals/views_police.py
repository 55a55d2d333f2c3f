"""The officer's screens: file a referral, list one's own referrals, open one of them.

Nothing here reads a clinical table. Another officer's referral and a random id give the
same 404, so ids can neither be guessed nor confirmed; the outcome is shown only as
`rules.police_feedback` allows."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.audit.log import record
from pingan.core import clock
from pingan.core.models import Centre
from pingan.core.posting import refusals
from pingan.region.current import current_centre
from pingan.region.stations import station_of

from . import actions, queries
from .forms import PoliceReferralForm


@require_GET
@requires("file_referral", "manage_referrals", any_of=True)
def index(request):
    """One menu entry for both sides: the officer to their list, the centre to its inbox."""
    if request.user.has_perm(perm("manage_referrals")):
        return redirect("referrals:inbox")
    return redirect("referrals:mine")


@require_http_methods(["GET", "POST"])
@requires("file_referral")
def file_referral(request):
    # An officer posted to a station files from it (shown, not typed); an officer without
    # a post gets the station they last filed from, to change if needed.
    posted = station_of(request.user)
    station = (
        posted.name if posted else queries.officer_summary(request.user, clock.today()).last_station
    )
    centres = list(Centre.objects.order_by("code"))
    form = PoliceReferralForm(request.POST or None, initial={"station": station}, centres=centres)
    if posted is not None:
        form.fields["station"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = next((c for c in centres if c.code == data.get("centre")), None)
        with refusals(request, form) as outcome:
            referral = actions.file_referral(
                officer=request.user,
                referred_on=data.get("referred_on"),
                station=data.get("station") or "",
                person_name=data.get("person_name") or "",
                person_contact=data.get("person_contact") or "",
                reason=data.get("reason") or "",
                centre=chosen or current_centre(request),
            )
        if not outcome.refused:
            messages.success(request, _("Referral sent to the centre. Thank you."))
            return redirect("referrals:mine_detail", external_id=referral.external_id)
    response = render(
        request, "referrals/file.html", {"form": form}, status=400 if form.errors else 200
    )
    add_never_cache_headers(response)
    return response


def _private(response):
    add_never_cache_headers(response)
    return response


@require_GET
@requires("file_referral")
def mine(request):
    rows = queries.officer_rows(request.user)
    with transaction.atomic():
        record("referral_list_read", target="referrals:mine", count=len(rows))
    return _private(render(request, "referrals/mine.html", {"rows": rows}))


@require_GET
@requires("file_referral")
def mine_detail(request, external_id):
    rows = queries.officer_rows(request.user, external_id=external_id)
    if not rows:
        raise Http404
    with transaction.atomic():
        record(
            "referral_identity_read",
            target=f"referrals.policereferral:{external_id}",
            purpose="officer",
        )
    return _private(render(request, "referrals/mine_detail.html", {"row": rows[0]}))
