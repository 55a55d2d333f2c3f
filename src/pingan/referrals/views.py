"""The centre's referral screens: the police referral inbox, one referral with its contact
attempts, outcome, client link, enrolment and duplicate merge; care referrals."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.posting import form_errors, refusals, run_form
from pingan.region.current import centre_id
from pingan.registry.models import Client

from . import actions, queries
from .forms import (
    ContactForm,
    EnrolFromReferralForm,
    LinkForm,
    MergeForm,
    OutcomeForm,
)
from .models import PoliceReferral, ReferralStatus

STATUS_FILTERS = ("open", "all", *ReferralStatus.values)


@require_GET
@requires("manage_referrals")
def inbox(request):
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    rows = list(queries.inbox(status, centre_id=centre_id(request))[:500])
    flagged = queries.duplicate_flags(rows)
    return render(
        request,
        "referrals/inbox.html",
        {
            "rows": [(r, r.pk in flagged) for r in rows],
            "status": status,
            "statuses": ReferralStatus.choices,
        },
    )


def _referral(request, external_id) -> PoliceReferral:
    """A referral sent to the current centre; another centre's answers 404."""
    return get_object_or_404(
        PoliceReferral.objects.select_related("officer", "client", "merged_into"),
        external_id=external_id,
        centre_id=centre_id(request),
    )


@require_GET
@requires("manage_referrals")
def detail(request, external_id):
    referral = _referral(request, external_id)
    actions.read_referral(referral, request.user, purpose="centre")
    today = clock.today()
    response = render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "attempts": referral.attempts.select_related("created_by"),
            "duplicates": queries.duplicates_of(referral)
            if referral.merged_into_id is None
            else [],
            "merged_here": referral.duplicates.select_related("merged_by"),
            "contact_form": ContactForm(initial={"on": today}),
            "outcome_form": OutcomeForm(initial={"on": today}),
            "link_form": LinkForm(),
            "enrol_form": EnrolFromReferralForm(initial={"enrolled_on": today}),
        },
    )
    add_never_cache_headers(response)
    return response


def _back(referral: PoliceReferral):
    return redirect("referrals:detail", external_id=referral.external_id)


@require_POST
@requires("manage_referrals")
def contact(request, external_id):
    referral = _referral(request, external_id)
    run_form(
        request,
        ContactForm(request.POST),
        lambda d: actions.record_contact(referral, user=request.user, **d),
        _("Contact attempt recorded."),
    )
    return _back(referral)


@require_POST
@requires("manage_referrals")
def outcome(request, external_id):
    referral = _referral(request, external_id)
    run_form(
        request,
        OutcomeForm(request.POST),
        lambda d: actions.record_outcome(
            referral, outcome=d["outcome"], on=d["on"], user=request.user
        ),
        _("Outcome recorded."),
    )
    return _back(referral)


@require_POST
@requires("manage_referrals")
def link(request, external_id):
    referral = _referral(request, external_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return _back(referral)
    code = form.cleaned_data["code"].strip().upper()
    client = Client.objects.filter(code=code, centre_id=referral.centre_id).first()
    if client is None:
        messages.error(request, _("No client has the code %(code)s.") % {"code": code})
        return _back(referral)
    with refusals(request) as outcome:
        actions.link_client(referral, client, request.user)
    if not outcome.refused:
        messages.success(request, _("Linked to client %(code)s.") % {"code": client.code})
    return _back(referral)


@require_POST
@requires("manage_referrals", "enrol_client")
def enrol(request, external_id):
    referral = _referral(request, external_id)
    form = EnrolFromReferralForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return _back(referral)
    with refusals(request) as outcome:
        client = actions.enrol_from_referral(referral, user=request.user, **form.cleaned_data)
    if outcome.refused:
        return _back(referral)
    messages.success(
        request, _("Client %(code)s enrolled from the referral.") % {"code": client.code}
    )
    return redirect("registry:detail", external_id=client.external_id)


@require_POST
@requires("manage_referrals")
def merge(request, external_id):
    referral = _referral(request, external_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the referral to merge into."))
        return _back(referral)
    target = PoliceReferral.objects.filter(
        external_id=form.cleaned_data["into"], centre_id=referral.centre_id
    ).first()
    if target is None:
        messages.error(request, _("Choose the referral to merge into."))
        return _back(referral)
    with refusals(request) as outcome:
        actions.merge(referral, target, request.user)
    if outcome.refused:
        return _back(referral)
    messages.success(request, _("Merged: this referral is a duplicate of the other."))
    return _back(target)
