"""Screens of the detox unit: the bed board, admission with its quote, one stay (care,
orders, money, discharge), the nurse's list for today, and the printable return card.

Views only gather input and show output; every rule is in `rules` and every change in
the actions, whose refusals are shown as they are. Money screens are in `views_money`.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.posting import refusals, run_form
from pingan.region.current import centre_id, in_centre
from pingan.registry.actions import IdentityInput

from . import actions, care, queries
from .forms import (
    AdjunctForm,
    AdmissionForm,
    CareForm,
    CowsForm,
    DischargeForm,
    DoseForm,
    ExtendForm,
    MoneyForm,
    MoveForm,
    TaperForm,
)
from .models import Bed, BedState, Stay


def _stay(request, external_id) -> Stay:
    """A stay of the current centre's ward (another centre's answers 404)."""
    return get_object_or_404(
        in_centre(
            request,
            Stay.objects.select_related("person", "bed__room", "tariff"),
            "bed__room__centre",
        ),
        external_id=external_id,
    )


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# Bed board ---------------------------------------------------------------------------------


@require_GET
@requires("inpatient_view")
def board(request):
    rooms, counts = queries.bed_board(centre_id=centre_id(request))
    template = "inpatient/_board.html" if _is_htmx(request) else "inpatient/board.html"
    return render(
        request,
        template,
        {"rooms": rooms, "counts": counts, "now": clock.localtime(), "states": BedState.choices},
    )


@require_POST
@requires("inpatient_nursing", "inpatient_admit", any_of=True)
def bed_state(request, external_id):
    bed = get_object_or_404(
        in_centre(request, Bed.objects.all(), "room__centre"), external_id=external_id
    )
    with refusals(request):
        actions.set_bed_state(bed, request.POST.get("state", ""), request.user)
    return redirect("inpatient:board")


# Admission ---------------------------------------------------------------------------------


def _identity(form: AdmissionForm, user) -> IdentityInput | None:
    if not user.has_perm(perm("view_identity")):
        return None
    d = form.cleaned_data
    data = IdentityInput(name=d["name"], national_id=d["national_id"], phone=d["phone"])
    return None if data.is_empty() else data


@requires("inpatient_admit")
def admit(request):
    """One form: "Quote" shows the price and how each factor moved it; "Admit" admits at
    that price. Nothing is written by a quote."""
    form = AdmissionForm(request.POST or None, initial=_initial(request))
    quote = found = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        found = actions.find_person(d["return_card_code"]) if d["return_card_code"] else None
        with refusals(request, form):
            if d["return_card_code"] and found is None:
                raise Refusal(_("No one has this return card code; check the card."))
            quote = actions.quote_for(d["bed"].room.room_type, form.history(), d["planned_days"])
            if request.POST.get("action") == "admit":
                data = actions.Admission(
                    alias=d["alias"] or "",
                    sex=d["sex"] or "",
                    birth_year=d["birth_year"] or 0,
                    history=form.history(),
                    planned_days=d["planned_days"],
                    reason=d["reason"],
                    return_card_code=d["return_card_code"],
                    identity=_identity(form, request.user),
                )
                stay = actions.admit(data, d["bed"], request.user)
                messages.success(
                    request,
                    _("Admitted. Return card code: %(code)s — print the card for the patient.")
                    % {"code": stay.person.return_card_code},
                )
                return redirect("inpatient:stay", external_id=stay.external_id)
    return render(
        request,
        "inpatient/admit.html",
        {
            "form": form,
            "quote": quote,
            "found": found,
            "tariff": actions.tariff_in_force(),
            "can_identity": request.user.has_perm(perm("view_identity")),
        },
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


def _initial(request) -> dict:
    """The bed board's "admit here" link preselects its bed."""
    try:
        wanted = uuid.UUID(request.GET.get("bed", ""))
    except ValueError:
        return {}
    found = Bed.objects.filter(external_id=wanted).first()
    return {"bed": found} if found else {}


# One stay ----------------------------------------------------------------------------------


@require_GET
@requires("inpatient_view")
def stay(request, external_id):
    return _stay_page(request, _stay(request, external_id))


def _stay_page(request, stay: Stay, status: int = 200, **forms):
    user = request.user
    today = clock.today()
    days, delivered = queries.delivered(stay, today)
    shows_money = user.has_perm(perm("inpatient_billing")) or user.has_perm(perm("inpatient_admit"))
    context = {
        "stay": stay,
        "person": stay.person,
        "days": days,
        "delivered": delivered,
        "order": care.current_order(stay),
        "today": today,
        "planned_today": care.planned_mg(stay, today) if stay.is_open else None,
        "dose_today": stay.doses.filter(date=today).first(),
        "doses": stay.doses.select_related("nurse"),
        "cows": stay.cows.all(),
        "adjuncts": stay.adjuncts.select_related("given_by"),
        "care_events": stay.care.select_related("clinician"),
        "earlier": stay.person.stays.exclude(pk=stay.pk).order_by("-admitted_at"),
        "shows_money": shows_money,
        "book": queries.ledger(stay) if shows_money else None,
        "entries": stay.ledger.all() if shows_money else [],
        "move_form": forms.get("move_form") or MoveForm(),
        "discharge_form": forms.get("discharge_form") or DischargeForm(),
        "taper_form": forms.get("taper_form")
        or TaperForm(initial={"start_on": max(today, stay.admitted_on)}),
        "dose_form": forms.get("dose_form")
        or DoseForm(initial={"given_mg": care.planned_mg(stay, today) if stay.is_open else None}),
        "cows_form": forms.get("cows_form") or CowsForm(),
        "adjunct_form": forms.get("adjunct_form") or AdjunctForm(),
        "care_form": forms.get("care_form") or CareForm(),
        "pay_form": forms.get("pay_form") or MoneyForm(),
        "refund_form": forms.get("refund_form") or MoneyForm(),
        "extend_form": forms.get("extend_form") or ExtendForm(),
    }
    return render(request, "inpatient/stay.html", context, status=status)


def stay_action(form_class, form_key: str, success: str):
    """A POST on one stay: parse the form, run the action, come back to the stay page with
    the outcome; a refusal is shown on the page (status 400) and nothing is written. An
    action with nothing to fill in has no form class (an empty form stands in)."""

    def decorator(run):
        @wraps(run)
        def view(request, external_id):
            stay = _stay(request, external_id)
            form = (form_class or forms.Form)(request.POST)
            if run_form(request, form, lambda d: run(request, stay, d), success):
                return redirect("inpatient:stay", external_id=stay.external_id)
            return _stay_page(request, stay, status=400, **({form_key: form} if form_key else {}))

        return require_POST(view)

    return decorator


@requires("inpatient_admit")
@stay_action(MoveForm, "move_form", gettext_lazy("Moved."))
def move(request, stay, d):
    actions.move_bed(stay, d["bed"], request.user)


@requires("inpatient_admit")
@stay_action(DischargeForm, "discharge_form", gettext_lazy("Discharged."))
def discharge(request, stay, d):
    actions.discharge(stay, request.user, note=d["note"])


@requires("inpatient_admit", "enrol_client")
@stay_action(None, "", gettext_lazy("Referred to community MMT with a new anonymous client code."))
def step_down(request, stay, d):
    actions.step_down(stay, request.user)


@requires("inpatient_orders")
@stay_action(TaperForm, "taper_form", gettext_lazy("Taper ordered."))
def taper(request, stay, d):
    care.order_taper(
        stay, d["start_on"], d["start_mg"], d["reduce_mg"], d["every_days"], request.user
    )


@requires("inpatient_nursing")
@stay_action(DoseForm, "dose_form", gettext_lazy("Dose recorded."))
def dose(request, stay, d):
    care.record_dose(stay, d["given_mg"], request.user, note=d["note"])


@requires("inpatient_nursing")
@stay_action(CowsForm, "cows_form", gettext_lazy("Withdrawal score recorded."))
def cows(request, stay, d):
    care.record_cows(stay, d, request.user)


@requires("inpatient_nursing")
@stay_action(AdjunctForm, "adjunct_form", gettext_lazy("Medication recorded."))
def adjunct(request, stay, d):
    care.record_adjunct(stay, d["medication"], d["dose"], request.user)


@requires("inpatient_orders", "inpatient_nursing", any_of=True)
@stay_action(CareForm, "care_form", gettext_lazy("Care recorded."))
def care_event(request, stay, d):
    care.record_care(stay, d["kind"], request.user, note=d["note"])


# The nurse's list for today ----------------------------------------------------------------


@require_GET
@requires("inpatient_nursing")
def today(request):
    return render(
        request,
        "inpatient/today.html",
        {"rows": queries.todays_doses(), "today": clock.today()},
    )


@require_GET
@requires("inpatient_admit")
def card(request, external_id):
    """The return card: the code only, nothing that names the person or the unit's record."""
    stay = _stay(request, external_id)
    return render(request, "inpatient/card.html", {"person": stay.person, "stay": stay})
