"""Dosing screens: the queue (two clicks to dose), one client's dosing record, the stock.

Views only gather input and show output; every decision comes from rules/actions."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.models import Centre
from pingan.core.months import NotADay, parse_day
from pingan.core.posting import refusals, run_form
from pingan.region.current import centre_id, current_centre, in_centre
from pingan.registry.models import Client

from . import actions, queries, rules, safety
from .forms import (
    ClearHoldForm,
    CorrectionForm,
    EcgForm,
    GuestSlipForm,
    HoldForm,
    MedicineForm,
    PregnancyForm,
    PrescribeForm,
    ReceiptForm,
    ReconcileForm,
    TaperForm,
    WasteForm,
    for_centre,
)
from .models import Dose, GuestSlip, Hold, Prescription, Reconciliation, StockEntry, TaperPlan

QUEUE_LIMIT = 300


def _client(request, external_id) -> Client:
    """The client of the URL, when they belong to the current centre or are its guest
    today under a guest slip (else 404)."""
    here = centre_id(request)
    guests = queries.open_slips(clock.today()).filter(host_id=here).values("client_id")
    return get_object_or_404(
        Client.objects.defer("photo").filter(Q(centre_id=here) | Q(pk__in=guests)),
        external_id=external_id,
    )


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# The queue ---------------------------------------------------------------------------------


@require_GET
@requires("view_queue")
def queue(request):
    today = clock.today()
    search = request.GET.get("q", "").strip()[:80]
    status = request.GET.get("status", "")
    status = status if status in queries.STATUSES else ""
    day = queries.queue_day(today, search=search, status=status, centre_id=centre_id(request))
    rows = day.rows
    return render(
        request,
        "dosing/queue.html",
        {
            "rows": rows[:QUEUE_LIMIT],
            "more": max(0, len(rows) - QUEUE_LIMIT),
            "total": len(rows),
            "counts": day.counts,
            "today": today,
            "search": search,
            "status": status,
            "statuses": [
                ("", _("All")),
                ("waiting", _("Waiting")),
                ("dosed", _("Dosed")),
                ("hold", _("On hold")),
            ],
        },
    )


@require_GET
@requires("view_queue")
def queue_counts(request):
    """The day's counts alone, fetched again by the queue after each dose (htmx)."""
    status = request.GET.get("status", "")
    return render(
        request,
        "dosing/_counts.html",
        {
            "counts": queries.queue_day(clock.today(), centre_id=centre_id(request)).counts,
            "status": status if status in queries.STATUSES else "",
        },
    )


def _row(request, client: Client, **extra):
    row = queries.row_for(client, clock.today(), centre_id(request))
    template = "dosing/_row.html" if _is_htmx(request) else "dosing/confirm.html"
    return render(request, template, {"row": row, **extra})


@require_GET
@requires("view_queue")
def row(request, external_id):
    """The plain row again (the confirm panel's "Cancel")."""
    return _row(request, _client(request, external_id))


@require_GET
@requires("view_queue", "record_dose")
def dose_confirm(request, external_id):
    """First click: show who, how much and how many ml, or why not (checked afresh)."""
    return _row(request, _client(request, external_id), confirming=True)


@require_POST
@requires("record_dose")
def dose(request, external_id):
    """Second click: record the observed dose, or show the refusal."""
    client = _client(request, external_id)
    mg = request.POST.get("mg") or None
    result = actions.record_dose(
        client,
        request.user,
        mg=mg,
        note=request.POST.get("note", ""),
        centre=current_centre(request),
    )
    if _is_htmx(request):
        response = _row(request, client, result=result)
        if result.ok:
            response["HX-Trigger"] = "dosed"  # the queue's counts fetch themselves again
        return response
    if result.ok:
        messages.success(
            request, _("%(code)s dosed: %(mg)d mg.") % {"code": client.code, "mg": result.dose.mg}
        )
    else:
        messages.error(request, f"{client.code}: {result.message}")
    return redirect("dosing:queue")


# One client's dosing record ----------------------------------------------------------------


def _client_page(request, client: Client, status: int = 200, **forms):
    today = clock.today()
    facts = queries.client_facts(client, today)
    here = centre_id(request)
    decision = rules.dosing_decision(
        facts, today, queries.thresholds(client.centre), at_centre=here
    )
    is_home = client.centre_id == here
    context = {
        "client": client,
        "is_home": is_home,
        "slips": GuestSlip.objects.filter(client=client, valid_to__gte=today)
        .select_related("host")
        .order_by("valid_from"),
        "slip_form": forms.get("slip_form") or GuestSlipForm(home_id=client.centre_id),
        "today": today,
        "decision": decision,
        "safety": safety.client_safety(client, today, decision.mg or facts.prescription_mg),
        "split_first_mg": facts.split_first_mg,
        "prescriptions": Prescription.objects.filter(client=client)
        .select_related("clinician")
        .order_by("-created_at"),
        "taper": TaperPlan.objects.filter(client=client, cancelled_at__isnull=True).first(),
        "holds": Hold.objects.filter(client=client).order_by("cleared_at", "-created_at")[:30],
        "doses": Dose.objects.filter(client=client)
        .select_related("dispenser", "prescription", "centre")
        .prefetch_related("parts")
        .order_by("-date")[:60],
        "prescribe_form": forms.get("prescribe_form") or PrescribeForm(),
        "taper_form": forms.get("taper_form")
        or TaperForm(initial={"from_mg": decision.mg or facts.prescription_mg}),
        "hold_form": forms.get("hold_form") or HoldForm(),
        "clear_form": forms.get("clear_form") or ClearHoldForm(),
        "ecg_form": forms.get("ecg_form") or EcgForm(),
        "medicine_form": forms.get("medicine_form") or MedicineForm(),
        "pregnancy_form": forms.get("pregnancy_form") or PregnancyForm(),
    }
    return render(request, "dosing/client.html", context, status=status)


@require_GET
@requires("view_client")
def client(request, external_id):
    return _client_page(request, _client(request, external_id))


def _handle(request, client, form_name, form, act):
    """Run `act(cleaned_data)` for a valid form; show the form again with the refusal."""
    if run_form(request, form, act, _("Saved."), on_form=True):
        return redirect("dosing:client", external_id=client.external_id)
    return _client_page(request, client, status=400, **{form_name: form})


PRESCRIBE_FIELDS = (
    "mg",
    "start_on",
    "reason",
    "induction",
    "first_part_mg",
    "second_part_mg",
    "second_part_home",
)


def _prescribe_confirm(request, client: Client, form: PrescribeForm, status: int = 200):
    """The change a prescription makes (from → to, difference, % change) and every check it
    meets, with the override reason asked for when a limit is exceeded: nothing is saved
    until the clinician confirms."""
    d = form.cleaned_data
    review = safety.preview(client, d["mg"], d["start_on"], d["induction"], form.parts)
    carried = [
        (name, request.POST.get(name, ""))
        for name in PRESCRIBE_FIELDS
        if request.POST.get(name, "") != ""
    ]
    return render(
        request,
        "dosing/prescribe_confirm.html",
        {"client": client, "form": form, "review": review, "carried": carried},
        status=status,
    )


@require_POST
@requires("prescribe")
def prescribe(request, external_id):
    """First post: check and show the change; second (confirmed): save and say what
    changed."""
    c = _client(request, external_id)
    form = PrescribeForm(request.POST)
    if not form.is_valid():
        return _client_page(request, c, status=400, prescribe_form=form)
    d = form.cleaned_data
    with refusals(request, form) as outcome:
        actions.clean_parts(d["mg"], form.parts)
    if outcome.refused:
        return _client_page(request, c, status=400, prescribe_form=form)
    if not d["confirmed"]:
        return _prescribe_confirm(request, c, form)
    with refusals(request, form) as outcome:
        saved = actions.prescribe(
            c,
            d["mg"],
            d["start_on"],
            request.user,
            d["reason"],
            induction=d["induction"],
            override_reason=d["override_reason"],
            parts=form.parts,
            second_part_home=d["second_part_home"],
        )
    if outcome.refused:
        return _prescribe_confirm(request, c, form, status=400)
    message = _("Saved: %(change)s.") % {"change": saved.review.summary}
    if saved.override_codes:
        message += " " + _("Override recorded: %(reason)s") % {"reason": saved.override_reason}
    messages.success(request, message)
    return redirect("dosing:client", external_id=c.external_id)


@require_POST
@requires("prescribe")
def taper(request, external_id):
    c = _client(request, external_id)
    return _handle(
        request,
        c,
        "taper_form",
        TaperForm(request.POST),
        lambda d: actions.start_taper(
            c,
            d["start_on"],
            d["from_mg"],
            d["to_mg"],
            d["step_mg"],
            d["every_days"],
            request.user,
            d["reason"],
            override_reason=d["override_reason"],
        ),
    )


@require_POST
@requires("prescribe")
def taper_cancel(request, external_id):
    plan = get_object_or_404(in_centre(request, TaperPlan.objects.all()), external_id=external_id)
    with refusals(request):
        actions.cancel_taper(plan, request.user, request.POST.get("reason", ""))
    return redirect("dosing:client", external_id=plan.client.external_id)


@require_POST
@requires("record_dose", "prescribe", any_of=True)
def hold_place(request, external_id):
    c = _client(request, external_id)
    return _handle(
        request,
        c,
        "hold_form",
        HoldForm(request.POST),
        lambda d: actions.place_hold(c, d["kind"], d["reason"], request.user),
    )


@require_POST
@requires("clear_hold")
def hold_clear(request, external_id):
    hold = get_object_or_404(
        in_centre(request, Hold.objects.select_related("client")), external_id=external_id
    )
    return _handle(
        request,
        hold.client,
        "clear_form",
        ClearHoldForm(request.POST),
        lambda d: actions.clear_hold(hold, request.user, d["note"]),
    )


# Guest slips -----------------------------------------------------------------------------------


@require_POST
@requires("prescribe")
def guest_slip_issue(request, external_id):
    """The home centre lets another centre dose the client for a few days."""
    c = _client(request, external_id)
    if c.centre_id != centre_id(request):
        messages.error(request, _("Only the client's own centre issues a guest slip."))
        return redirect("dosing:client", external_id=c.external_id)
    return _handle(
        request,
        c,
        "slip_form",
        GuestSlipForm(request.POST, home_id=c.centre_id),
        lambda d: actions.issue_guest_slip(
            c, d["host"], d["valid_from"], d["valid_to"], request.user
        ),
    )


@require_POST
@requires("prescribe")
def guest_slip_cancel(request, external_id):
    slip = get_object_or_404(
        GuestSlip.objects.select_related("client"),
        external_id=external_id,
        client__centre_id=centre_id(request),
    )
    with refusals(request):
        actions.cancel_guest_slip(slip, request.user, request.POST.get("reason", ""))
    return redirect("dosing:client", external_id=slip.client.external_id)


@require_GET
@requires("view_queue")
def guests(request):
    """Guest slips in force or to come: the guests this centre expects, and this centre's
    clients away as guests elsewhere."""
    today, here = clock.today(), centre_id(request)
    slips = (
        GuestSlip.objects.filter(cancelled_at__isnull=True, valid_to__gte=today)
        .select_related("client", "client__centre", "host")
        .defer("client__photo")
        .order_by("valid_from", "client__code")
    )
    return render(
        request,
        "dosing/guests.html",
        {
            "today": today,
            "expected": slips.filter(host_id=here),
            "away": slips.filter(client__centre_id=here),
            "centre": Centre.objects.filter(pk=here).first(),
        },
    )


# Stock ---------------------------------------------------------------------------------------

STOCK_FORMS = {"receipt": ReceiptForm, "waste": WasteForm, "correction": CorrectionForm}


def _add_entry(kind: str, d: dict, by) -> None:
    if kind == "receipt":
        actions.receive(d["product"], d["ml"], d["batch"], by)
    elif kind == "waste":
        actions.record_waste(d["product"], d["ml"], d["reason"], by)
    else:
        actions.correct(d["product"], d["ml"], d["reason"], by)


@requires("manage_stock")
def stock(request):
    """The current centre's stock: its products, their ledger and reconciliations."""
    here = current_centre(request)
    if here is None:
        raise Http404
    actions.ensure_default_product(here)
    forms = {name: for_centre(cls(prefix=name), here.pk) for name, cls in STOCK_FORMS.items()}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in STOCK_FORMS:
            return redirect("dosing:stock")
        form = forms[kind] = for_centre(STOCK_FORMS[kind](request.POST, prefix=kind), here.pk)
        added = _("Entry added to the ledger.")
        if run_form(
            request, form, lambda d: _add_entry(kind, d, request.user), added, on_form=True
        ):
            return redirect("dosing:stock")
        status = 400
    entries = (
        StockEntry.objects.filter(product__centre=here)
        .select_related("product", "created_by", "dose__client")
        .order_by("-pk")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dosing/stock.html",
        {
            "balances": queries.balances(here.pk),
            "page": page,
            "forms": forms,
            "reconciliations": Reconciliation.objects.filter(product__centre=here)
            .select_related("product")
            .order_by("-on")[:10],
        },
        status=status,
    )


@requires("manage_stock")
def reconcile(request):
    here = current_centre(request)
    if here is None:
        raise Http404
    product = actions.ensure_default_product(here)
    form = for_centre(ReconcileForm(request.POST or None, initial={"product": product}), here.pk)
    status = 200
    if request.method == "POST":

        def run(d):
            actions.reconcile(
                d["product"],
                d["on"],
                d["counted_ml"],
                d["explanation"],
                request.user,
                post_correction=d["post_correction"],
            )

        if run_form(request, form, run, _("Reconciliation recorded."), on_form=True):
            return redirect("dosing:stock")
        status = 400
    day = _day(request.GET.get("on")) or clock.today()
    expected = queries.balance_at(product, queries.end_of_day(day))
    return render(
        request,
        "dosing/reconcile.html",
        {"form": form, "day": day, "product": product, "expected": expected},
        status=status,
    )


def _day(value: str | None) -> date | None:
    """The day asked for, or None (today is shown) for none or one out of range."""
    try:
        return parse_day(value) if value else None
    except NotADay:
        return None


@require_GET
@requires("manage_stock")
def dispensing_log(request):
    day = _day(request.GET.get("date")) or clock.today()
    lines = queries.dispensing_lines(day, centre_id(request))
    return render(request, "dosing/log.html", {"day": day, "lines": lines})
