"""Screens for money and the unit's setup: payments, extensions and refunds with their
printable receipts, tariff versions, rooms and beds, and the monthly report (care per
clinician for fee-for-service pay, with the unit's indicator inputs)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.months import month_or_default
from pingan.core.posting import refusals, run_form
from pingan.region.current import current_centre, in_centre

from . import actions, billing, queries, rules
from .forms import ExtendForm, MoneyForm, RoomForm, TariffForm
from .models import CareKind, Drug, LedgerEntry, Room, RoomType, TariffVersion
from .views import stay_action


@requires("inpatient_billing")
@stay_action(MoneyForm, "pay_form", gettext_lazy("Payment taken; print the receipt."))
def pay(request, stay, d):
    billing.take_payment(stay, d["amount"], request.user, note=d["note"], method=d["method"])


@requires("inpatient_billing")
@stay_action(MoneyForm, "refund_form", gettext_lazy("Refund paid; print the receipt."))
def refund(request, stay, d):
    billing.refund(stay, d["amount"], request.user, note=d["note"], method=d["method"])


@requires("inpatient_billing")
@stay_action(ExtendForm, "extend_form", gettext_lazy("Stay extended; take the payment."))
def extend(request, stay, d):
    billing.extend(stay, d["days"], request.user)


@require_GET
@requires("inpatient_billing")
def receipt(request, external_id):
    """A print view of one payment or refund receipt (the card code, never a name): the
    centre, the amount in figures and in capital numerals, how it was paid, and the
    balance of the stay just after it."""
    entry = get_object_or_404(
        in_centre(
            request,
            LedgerEntry.objects.select_related("stay__person", "created_by"),
            "stay__bed__room__centre",
        ),
        external_id=external_id,
        receipt_number__isnull=False,
    )
    return render(
        request,
        "inpatient/receipt.html",
        {
            "entry": entry,
            "stay": entry.stay,
            "centre": entry.stay.bed.room.centre,  # the ward's centre issued it
            "after": billing.balance_after(entry),
        },
    )


# Tariff versions ---------------------------------------------------------------------------


@requires("manage_tariff")
def tariffs(request):
    form = TariffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        latest = TariffVersion.objects.order_by("-created_at").first()
        with refusals(request, form) as outcome:
            tariff = actions.create_tariff(
                form.cleaned_data["name"], form.cleaned_data["effective_from"], request.user, latest
            )
        if not outcome.refused:
            return redirect("inpatient:tariff", external_id=tariff.external_id)
    return render(
        request,
        "inpatient/tariffs.html",
        {
            "form": form,
            "versions": TariffVersion.objects.all(),
            "in_force": actions.tariff_in_force(),
        },
        status=400 if form.errors else 200,
    )


def _grid(tariff: TariffVersion) -> list[dict]:
    rates = {(r.room_type, r.drug): r.day_price for r in tariff.rates.all()}
    return [
        {
            "room": room,
            "label": RoomType(room).label,
            "cells": [
                {"drug": drug, "name": f"rate-{room}-{drug}", "price": rates.get((room, drug))}
                for drug in rules.DRUGS
            ],
        }
        for room in rules.ROOM_TYPES
    ]


@requires("manage_tariff")
def tariff(request, external_id):
    """A draft's cells can be edited (an empty cell is a gap publication will name); a
    published version is shown, never changed."""
    version = get_object_or_404(TariffVersion, external_id=external_id)
    status = 200
    if request.method == "POST":
        with refusals(request) as outcome:
            if request.POST.get("action") == "publish":
                actions.publish_tariff(version, request.user)
                messages.success(request, _("Tariff published."))
            else:
                for room in rules.ROOM_TYPES:
                    for drug in rules.DRUGS:
                        value = request.POST.get(f"rate-{room}-{drug}")
                        if value is not None:
                            actions.set_rate(version, room, drug, value, request.user)
                messages.success(request, _("Draft saved."))
        if not outcome.refused:
            return redirect("inpatient:tariff", external_id=version.external_id)
        status = 400
    version.refresh_from_db()
    return render(
        request,
        "inpatient/tariff.html",
        {
            "tariff": version,
            "grid": _grid(version),
            "drugs": [Drug(d).label for d in rules.DRUGS],
            "bands": version.bands.all(),
            "points": version.severity_points,
            "editable": version.published_at is None and not version.stays.exists(),
        },
        status=status,
    )


# Rooms -------------------------------------------------------------------------------------


@requires("manage_tariff")
def rooms(request):
    form = RoomForm(request.POST or None)
    status = 200
    if request.method == "POST":

        def add(d):
            actions.add_room(
                d["name"],
                d["room_type"],
                d["beds"].split(","),
                request.user,
                centre=current_centre(request),
            )

        if run_form(request, form, add, _("Room added."), on_form=True):
            return redirect("inpatient:rooms")
        status = 400
    return render(
        request,
        "inpatient/rooms.html",
        {"form": form, "rooms": Room.objects.prefetch_related("beds")},
        status=status,
    )


# Monthly report ----------------------------------------------------------------------------


@require_GET
@requires("inpatient_billing", "manage_tariff", any_of=True)
def report(request):
    month, error = month_or_default(request.GET.get("month", ""), clock.today())
    # Each measure with how its value reads: a share, a mean, a count or money.
    measures = [
        (_("Occupancy"), queries.occupancy(month), "percent"),
        (_("Mean length of stay (nights)"), queries.mean_los_days(month), "mean"),
        (_("Readmitted within 12 months"), queries.readmission_12m(month), "percent"),
        (_("Admissions"), queries.admissions(month), "count"),
        (_("Revenue (payments less refunds)"), queries.revenue(month), "yuan"),
    ]
    return render(
        request,
        "inpatient/report.html",
        {
            "month": month,
            "error": error,
            "rows": queries.care_report(month),
            "kinds": CareKind.choices,
            "measures": measures,
        },
    )
