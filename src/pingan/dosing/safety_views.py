"""Screens of safe prescribing: ECGs, other medicines and pregnancy on the client's dosing
page, the second part of a split dose, the clinician's worklist, the centre's limits.

Views only gather input and show output; the rules are in `prescribing`, the writes in
`safety_actions` and `actions`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.posting import refusals, run_form
from pingan.region.current import current_centre, in_centre

from . import actions, interactions, queries, safety, safety_actions
from .forms import (
    EcgForm,
    EndPregnancyForm,
    LimitsForm,
    MedicineForm,
    MissedDaysForm,
    PregnancyForm,
    StopMedicineForm,
)
from .models import DosingLimits, OtherMedicine, Pregnancy
from .views import _client, _handle, _row


def _close(request, model, external_id, form_class, act):
    """End a dated record of a client (a medicine stopped, a pregnancy ended) from its form,
    then back to the client's page."""
    record = get_object_or_404(
        in_centre(request, model.objects.select_related("client")), external_id=external_id
    )
    run_form(request, form_class(request.POST), lambda d: act(record, d), _("Saved."))
    return redirect("dosing:client", external_id=record.client.external_id)


@require_POST
@requires("prescribe")
def ecg_add(request, external_id):
    c = _client(request, external_id)
    return _handle(
        request,
        c,
        "ecg_form",
        EcgForm(request.POST),
        lambda d: safety_actions.record_ecg(
            c, d["recorded_on"], d["qtc_ms"], request.user, d["note"]
        ),
    )


@require_POST
@requires("prescribe")
def medicine_start(request, external_id):
    c = _client(request, external_id)
    return _handle(
        request,
        c,
        "medicine_form",
        MedicineForm(request.POST),
        lambda d: safety_actions.start_medicine(
            c, d["name"], d["started_on"], request.user, d["note"]
        ),
    )


@require_POST
@requires("prescribe")
def medicine_stop(request, external_id):
    return _close(
        request,
        OtherMedicine,
        external_id,
        StopMedicineForm,
        lambda medicine, d: safety_actions.stop_medicine(medicine, d["stopped_on"], request.user),
    )


@require_POST
@requires("prescribe")
def pregnancy_set(request, external_id):
    c = _client(request, external_id)
    return _handle(
        request,
        c,
        "pregnancy_form",
        PregnancyForm(request.POST),
        lambda d: safety_actions.set_pregnancy(
            c, d["known_on"], d["due_on"], request.user, d["note"]
        ),
    )


@require_POST
@requires("prescribe")
def pregnancy_end(request, external_id):
    return _close(
        request,
        Pregnancy,
        external_id,
        EndPregnancyForm,
        lambda pregnancy, d: safety_actions.end_pregnancy(pregnancy, d["ended_on"], request.user),
    )


@require_POST
@requires("record_dose")
def second_part(request, external_id):
    """The observed second part of today's split dose, from the queue row."""
    client = _client(request, external_id)
    with refusals(request) as outcome:
        result = actions.record_second_part(client, request.user)
    if request.headers.get("HX-Request") == "true" and not outcome.refused:
        return _row(request, client, result=result)
    if not outcome.refused:
        if result.ok:
            messages.success(request, _("%(code)s: second part given.") % {"code": client.code})
        else:
            messages.error(request, f"{client.code}: {result.message}")
    return redirect("dosing:queue")


@require_GET
@requires("prescribe")
def worklist(request):
    today = clock.today()
    return render(
        request,
        "dosing/worklist.html",
        {"today": today, "rows": safety.worklist(today), "limits": queries.dose_limits()},
    )


@requires("manage_staff")
def limits(request):
    """The current centre's induction and titration limits and its missed-dose thresholds
    (each centre has its own): two forms on one page, told apart by the posted `part`."""
    here = current_centre(request)
    if here is None:
        raise Http404
    current = DosingLimits.objects.filter(centre=here).first() or DosingLimits(centre=here)
    posted = request.POST.get("part", "limits") if request.method == "POST" else ""
    form = LimitsForm((request.POST or None) if posted == "limits" else None, instance=current)
    missed = MissedDaysForm(
        request.POST if posted == "missed_days" else None,
        initial={name: getattr(here, name) for name in safety_actions.MISSED_DAY_FIELDS},
    )
    status = 200
    if request.method == "POST":
        if posted == "missed_days":
            shown, save = (
                missed,
                lambda d: safety_actions.save_missed_dose_thresholds(
                    here,
                    d["review_after_missed_days"],
                    d["reinduction_after_missed_days"],
                    request.user,
                ),
            )
        else:
            shown, save = form, lambda d: safety_actions.save_limits(d, request.user, here)
        saved = run_form(request, shown, save, _("Saved."), on_form=True)
        if saved:
            return redirect("dosing:limits")
        status = 400
    return render(
        request,
        "dosing/limits.html",
        {
            "form": form,
            "missed": missed,
            "max_missed_days": safety_actions.MAX_MISSED_DAYS,
            "table": interactions.TABLE,
            "centre": here,
        },
        status=status,
    )
