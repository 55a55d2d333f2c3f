"""Screens of the labs app (thin: forms in, actions and queries out)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.core import clock
from pingan.core.domain import may
from pingan.core.posting import refusals
from pingan.region.current import centre_id, in_centre
from pingan.registry.models import Client

from . import actions, queries, rules
from .forms import ANALYTE_GROUPS, InfectionTestForm, UrineSampleForm
from .models import Analyte, ScheduledUrineTest, UrineSample


def _client_page(request, client: Client, urine_form=None, test_form=None, status=200):
    can_urine = request.user.has_perm(perm("record_urine"))
    can_test = request.user.has_perm(perm("record_test"))
    return render(
        request,
        "labs/client.html",
        {
            "client": client,
            "analytes": [label for _value, label in Analyte.choices],
            "analyte_groups": [(label, len(group)) for label, group in ANALYTE_GROUPS],
            "samples": queries.urine_history(client),
            "tests": queries.test_history(client),
            "urine_form": (urine_form or UrineSampleForm()) if can_urine else None,
            "test_form": (test_form or InfectionTestForm()) if can_test else None,
        },
        status=status,
    )


@requires("view_client", "view_health_data", any_of=True)
def client(request, external_id):
    return _client_page(
        request, get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    )


@requires("record_urine")
@require_POST
def record_urine(request, external_id):
    subject = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    form = UrineSampleForm(request.POST)
    if form.is_valid():
        with refusals(request, form) as outcome:
            sample = actions.record_urine_sample(
                subject,
                form.cleaned_data["collected_on"],
                form.cleaned_data["results"],
                observed=form.cleaned_data["observed"],
                by=request.user,
            )
        if not outcome.refused:
            decision = rules.opioid_positive(form.cleaned_data["results"])
            text = _("Urine sample recorded for %(code)s.") % {"code": subject.code}
            if decision.positive:
                text += " " + _("Opioid-positive.")
            if sample.scheduled:
                text += " " + _("The scheduled random test is done.")
            messages.success(request, text)
            return redirect("labs:client", external_id=subject.external_id)
    return _client_page(request, subject, urine_form=form, status=400)


@requires("record_test")
@require_POST
def record_test(request, external_id):
    subject = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    form = InfectionTestForm(request.POST)
    if form.is_valid():
        with refusals(request, form) as outcome:
            actions.record_test(
                subject,
                form.cleaned_data["tested_on"],
                form.cleaned_data["test"],
                form.cleaned_data["result"],
                by=request.user,
            )
        if not outcome.refused:
            messages.success(
                request, _("Test result recorded for %(code)s.") % {"code": subject.code}
            )
            return redirect("labs:client", external_id=subject.external_id)
    return _client_page(request, subject, test_form=form, status=400)


@requires("record_urine", *actions.SCHEDULE_PERMISSIONS, any_of=True)
def schedule(request):
    today = clock.today()
    can_generate = may(request.user, *actions.SCHEDULE_PERMISSIONS, any_of=True)
    month = actions.next_month(today)
    return render(
        request,
        "labs/schedule.html",
        {
            "today": today,
            "due": queries.due_on(today, centre_id=centre_id(request)),
            "can_generate": can_generate,
            "can_mark": request.user.has_perm(perm("record_urine")),
            "next_month": month,
            "next_month_count": ScheduledUrineTest.objects.filter(
                on__year=month.year, on__month=month.month
            ).count(),
        },
    )


@requires(*actions.SCHEDULE_PERMISSIONS, any_of=True)
@require_POST
def generate(request):
    month = actions.next_month()
    decisions = actions.generate_schedule(month, by=request.user)
    added = sum(len(d.days) for d in decisions)
    messages.success(
        request,
        _("Schedule for %(month)s: %(added)d tests added for %(clients)d clients.")
        % {"month": f"{month:%Y-%m}", "added": added, "clients": len(decisions)},
    )
    return redirect("labs:schedule")


@requires("record_urine")
@require_POST
def mark_done(request, external_id):
    scheduled = get_object_or_404(
        in_centre(request, ScheduledUrineTest.objects.all()), external_id=external_id
    )
    try:
        sample_id = uuid.UUID(request.POST.get("sample", ""))
    except ValueError:
        sample_id = None
    sample = UrineSample.objects.filter(external_id=sample_id).first() if sample_id else None
    if sample is None:
        messages.error(request, _("Choose the sample that answers this test."))
        return redirect("labs:schedule")
    with refusals(request) as outcome:
        actions.mark_scheduled_done(scheduled, sample, by=request.user)
    if not outcome.refused:
        messages.success(request, _("Marked done for %(code)s.") % {"code": scheduled.client.code})
    return redirect("labs:schedule")
