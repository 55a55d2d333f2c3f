"""The manager's screen of the days the centre is closed: a year's closed days with why, the
make-up working days, and the days entered by hand, added and removed here. The take-home
closed-day allowance and the urine-test schedule both read what this screen shows."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock, closed_days
from pingan.core.models import ClosedDay
from pingan.core.posting import refusals

from . import actions

SOURCES = {
    closed_days.HAND: gettext_lazy("entered by hand"),
    closed_days.HOLIDAY: gettext_lazy("public holiday"),
    closed_days.WEEKDAY: gettext_lazy("weekly closing day"),
}


def _url(year: int) -> str:
    return f"{reverse('takehome:closures')}?year={year}"


def _year(raw: str) -> int | None:
    first, last = actions.CLOSURE_YEARS
    try:
        year = int(raw)
    except ValueError:
        return None
    return year if first <= year <= last else None


def _page(request: HttpRequest, year: int, entered: dict | None = None, status: int = 200):
    first, last = date(year, 1, 1), date(year, 12, 31)
    policy = closed_days.policy_on(first)
    hand = {c.day: c for c in ClosedDay.objects.filter(day__range=(first, last))}
    rows = [
        (c, str(SOURCES[c.source]), hand.get(c.day) if c.source == closed_days.HAND else None)
        for c in closed_days.between(first, last, policy)
    ]
    weekdays = _(", ").join(str(WEEKDAYS[w]) for w in sorted(policy.weekdays))
    return render(
        request,
        "takehome/closures.html",
        {
            "year": year,
            "years": (year - 1, year + 1),
            "rows": rows,
            "makeup": closed_days.makeup_workdays(first, last, policy),
            "weekdays": weekdays,
            "public_holidays": policy.public_holidays,
            "last_known": closed_days.calendar_last_year(),
            "entered": entered or {},
        },
        status=status,
    )


@requires("draft_standard")
def closures_view(request: HttpRequest) -> HttpResponse:
    this_year = clock.today().year
    if request.method == "POST":
        day, reason = request.POST.get("day", ""), request.POST.get("reason", "")
        with refusals(request) as outcome:
            made = actions.add_closure(day, reason, request.user)
        if outcome.refused:
            year = _year(day[:4]) or _year(request.GET.get("year", "")) or this_year
            return _page(request, year, {"day": day, "reason": reason}, status=400)
        messages.success(
            request,
            _("%(day)s marked closed: %(reason)s.") % {"day": made.day, "reason": made.reason},
        )
        return redirect(_url(made.day.year))
    raw = request.GET.get("year", "").strip()
    if not raw:
        return _page(request, this_year)
    year = _year(raw)
    if year is None:
        first, last = actions.CLOSURE_YEARS
        messages.error(
            request,
            _("“%(value)s” is not a year between %(first)d and %(last)d.")
            % {"value": raw[:20], "first": first, "last": last},
        )
        return _page(request, this_year, status=400)
    return _page(request, year)


@require_POST
@requires("draft_standard")
def closure_remove(request: HttpRequest, external_id) -> HttpResponse:
    closure = get_object_or_404(ClosedDay, external_id=external_id)
    with refusals(request) as outcome:
        actions.remove_closure(closure, request.user)
    if not outcome.refused:
        messages.success(request, _("%(day)s is no longer marked closed.") % {"day": closure.day})
    return redirect(_url(closure.day.year))
