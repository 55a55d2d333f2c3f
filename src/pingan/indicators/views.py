"""Indicator screens: the dashboard with trends, drill-down, evaluation and the exports.

Views only read the query string and pick the audience; every figure comes from
`queries.py` (through `freshness.py`, which keeps each month's set until a write changes
it). Centre staff and the CDC see every figure; the police see the screen set, where only
truly small cells are hidden (`suppression.py`); exports keep the stricter rule because
they leave the region.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.audit.log import record
from pingan.core import clock
from pingan.core.models import Centre
from pingan.core.months import NotAMonth, month_or_default
from pingan.region.current import centre_id
from pingan.registry.models import Client

from . import freshness, queries
from .definitions import BY_ID, INDICATORS, SECTIONS, Period
from .drilldown import DRILL, drill
from .report import HIDDEN, NO_DATA, axis_label, display, interval, monthly_csv, monthly_pdf
from .suppression import for_screen, sees_every_figure, suppress


def _period(request: HttpRequest, name: str = "period", default: Period | None = None):
    """The month asked for, or the default (last month) with a message for the screen saying
    why (not YYYY-MM, or outside 2000-01 to 2099-12)."""
    fallback = default or Period.of(clock.today()).shift(-1)
    month, error = month_or_default(request.GET.get(name, ""), fallback.start)
    return Period.of(month), error


def _sections(result) -> list[dict]:
    sections = []
    for key, title in SECTIONS.items():
        rows = []
        for ind in INDICATORS:
            if ind.section == key:
                r = result.results[ind.id]
                rows.append({"ind": ind, "r": r, "shown": display(ind, r), "ci": interval(r)})
        sections.append({"title": title, "rows": rows})
    return sections


# Roles that oversee every centre of the region rather than work in one.
REGIONAL_ROLES = ("cdc", "police")


def regional(user) -> bool:
    return user.groups.filter(name__in=REGIONAL_ROLES).exists()


def _scope(request: HttpRequest, centres: list[Centre]) -> Centre | None | int:
    """Whose figures the dashboard shows: a centre, or None for the pooled region. CDC and
    police officers choose (`?centre=CODE`, none: every centre pooled); centre staff see
    their current centre. With one centre only, its figures are the region's."""
    if regional(request.user):
        code = request.GET.get("centre", "")
        return next((c for c in centres if c.code == code), None)
    if len(centres) <= 1:
        return None
    here = centre_id(request)
    return next((c for c in centres if c.pk == here), here)


def _side_by_side(period: Period, centres: list[Centre], user) -> tuple[list[dict], list]:
    """For a regional officer: each indicator of the month for every centre and pooled, as
    they may see it (suppressed for the police); and the sets it was read from."""
    sets = [freshness.month_sets([period], c.pk, stale_ok=True)[0] for c in centres]
    sets.append(freshness.month_sets([period], stale_ok=True)[0])
    *columns, pooled = [s.results for s in for_screen(sets, user)]
    rows = [
        {
            "ind": ind,
            "cells": [display(ind, col[ind.id]) for col in columns],
            "pooled": display(ind, pooled[ind.id]),
        }
        for ind in INDICATORS
    ]
    return rows, sets


@requires("view_indicators")
def dashboard(request: HttpRequest) -> HttpResponse:
    period, error = _period(request)
    full = sees_every_figure(request.user)
    centres = list(Centre.objects.order_by("code"))
    scope = _scope(request, centres)
    scope_id = scope.pk if isinstance(scope, Centre) else scope
    kept = freshness.trend(period, centre_id=scope_id, stale_ok=True)
    sets = for_screen(kept, request.user)
    series = [{**s.__dict__, "unit": axis_label(BY_ID[s.id])} for s in queries.series(sets)]
    is_regional = regional(request.user) and len(centres) > 1
    side_by_side, columns = (
        _side_by_side(period, centres, request.user) if is_regional else ([], [])
    )
    return render(
        request,
        "indicators/dashboard.html",
        {
            "period": period,
            "error": error,
            "full": full,
            "sections": _sections(sets[-1]),
            "series": series,
            "series_json": series,
            "can_drill": request.user.has_perm(perm("drilldown_indicators")),
            "centres": centres if is_regional else [],
            "scope": scope if isinstance(scope, Centre) else None,
            "side_by_side": side_by_side,
            # Some figures are a month's previous set while the server recomputes it.
            "behind": freshness.behind(kept + columns),
            "can_export": request.user.has_perm(perm("export_indicators")),
        },
    )


@requires("drilldown_indicators")
def drilldown(request: HttpRequest, indicator: str, period: str) -> HttpResponse:
    ind = BY_ID.get(indicator)
    try:
        month = Period.parse(period)
    except NotAMonth:
        raise Http404 from None
    if ind is None or indicator not in DRILL:
        raise Http404
    # The same population as the figure the link came from (the screen's centre, or the
    # pooled region for a CDC officer who chose it).
    scope = _scope(request, list(Centre.objects.order_by("code")))
    rows = drill(indicator, month, scope.pk if isinstance(scope, Centre) else scope)
    clients = Client.objects.in_bulk([r.client_id for r in rows])
    record("indicators.drilldown", target=f"{indicator} {month}", count=len(rows))
    listing = [
        {
            "code": clients[r.client_id].code,
            "external_id": clients[r.client_id].external_id,
            "counted": r.counted,
            "detail": r.detail,
        }
        for r in rows
        if r.client_id in clients
    ]
    return render(
        request,
        "indicators/drilldown.html",
        {
            "ind": ind,
            "period": month,
            "rows": listing,
            "counted": sum(1 for r in rows if r.counted),
            "can_open": request.user.has_perm(perm("view_client")),
        },
    )


def _cell(ind, r) -> dict:
    """One comparison cell: the share and its interval, or why there is none; the counts
    that may be shown are shown even when the share is not."""
    if r.value is not None:
        shown = display(ind, r)
    elif r.suppressed:
        shown = str(HIDDEN)
    else:
        shown = str(NO_DATA)
    return {
        "value": r.value,
        "suppressed": r.suppressed,
        "shown": shown,
        "ci": interval(r),
        "numerator": r.numerator,
        "denominator": r.denominator,
    }


def _for_police(comparisons: list) -> list:
    """The police see the pooled comparison with only truly small cells hidden (the
    take-home, clinic-only and overall figures add up, so they are suppressed together)."""
    pooled = {}
    for c, (overall, th, co) in zip(comparisons, queries.COMPARED, strict=True):
        pooled.update({overall: c.overall, th: c.takehome, co: c.clinic_only})
    shown = suppress(pooled, zero_is_small=False)
    return [
        queries.Comparison(c.measure, c.label, shown[th], shown[co], shown[overall])
        for c, (overall, th, co) in zip(comparisons, queries.COMPARED, strict=True)
    ]


@requires("view_indicators")
def evaluation(request: HttpRequest) -> HttpResponse:
    last, error = _period(request, "to")
    first, error_from = _period(request, "from", last.shift(-5))
    error = error or error_from
    if first > last:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month >= 36:
        first = last.shift(-35)
        error = error or _("At most 36 months at once; showing the last 36.")
    scope = _scope(request, list(Centre.objects.order_by("code")))
    comparisons = freshness.evaluation(
        first, last, scope.pk if isinstance(scope, Centre) else scope
    )
    if not sees_every_figure(request.user):
        comparisons = _for_police(comparisons)
    rows = []
    for c, (overall, th, co) in zip(comparisons, queries.COMPARED, strict=True):
        cells = [(th, c.takehome), (co, c.clinic_only), (overall, c.overall)]
        rows.append({"label": c.label, "cells": [_cell(BY_ID[i], r) for i, r in cells]})
    return render(
        request,
        "indicators/evaluation.html",
        {"first": first, "last": last, "comparisons": rows, "error": error},
    )


def _language(request: HttpRequest) -> str:
    return "en" if request.GET.get("lang") == "en" else "zh-hans"


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    """The month's indicators as a file, each export audited. A month that cannot be read
    is refused (400) rather than replaced: a file must hold the month its name says."""
    text = request.GET.get("period", "").strip()
    try:
        period = Period.parse(text) if text else Period.of(clock.today()).shift(-1)
    except NotAMonth as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    language = _language(request)
    # The same figures as the dashboard: the centre of centre staff, the centre a regional
    # officer chose (`?centre=CODE`) or the region pooled.
    scope = _scope(request, list(Centre.objects.order_by("code")))
    if not isinstance(scope, Centre) and scope is not None:
        return HttpResponseBadRequest(
            _("You work in no centre of this region: there is nothing to export."),
            content_type="text/plain; charset=utf-8",
        )
    suffix = f"-{scope.code}" if scope is not None else ""
    record(
        "indicators.export",
        target=str(period),
        format=kind,
        language=language,
        centre=scope.code if scope is not None else None,
    )
    if kind == "csv":
        body = monthly_csv(period, language, scope.pk if scope is not None else None)
        content_type, name = "text/csv; charset=utf-8", f"indicators-{period}{suffix}.csv"
    else:
        body, content_type = monthly_pdf(period, language, scope), "application/pdf"
        name = f"indicators-{period}{suffix}-{language}.pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires("export_indicators")
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@requires("export_indicators")
def report_pdf(request: HttpRequest) -> HttpResponse:
    return _export(request, "pdf")
