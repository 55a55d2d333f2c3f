"""The police bureau's view across its stations: for a month, each station's referral
figures (the referral indicators of `indicators.definitions`, cut by station) and every
referral filed, without the person referred.

Only an officer posted to the bureau (`region.OfficerPost` without a station) opens it; a
figure is hidden as on every police screen (a truly small cell or its complement). Here
rather than in `referrals` because the indicators and their suppression are a layer above
the referrals app."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pingan.accounts.decorators import requires
from pingan.audit.log import record
from pingan.core import clock
from pingan.indicators.definitions import BY_ID, Period, Result
from pingan.indicators.modules import compute
from pingan.indicators.report import display
from pingan.indicators.suppression import suppress
from pingan.referrals.queries import bureau_rows
from pingan.region.models import PoliceStation
from pingan.region.stations import at_bureau

FIGURES = ("police_referrals", "referrals_enrolled_30d", "referred_retained_3m")


@dataclass(frozen=True)
class StationFigures:
    station: PoliceStation
    results: dict[str, Result]  # as the police may see them: small cells are None

    @property
    def cells(self) -> list[tuple[str, Result, str]]:
        """(indicator id, result, the figure as read) in the order of FIGURES."""
        return [(i, self.results[i], display(BY_ID[i], self.results[i])) for i in FIGURES]


def station_figures(period: Period) -> list[StationFigures]:
    """Each station's referral figures for the month, each station's table suppressed on
    its own as the police screens are (zero is not small: it describes nobody)."""
    return [
        StationFigures(
            station,
            suppress(
                {i: compute(BY_ID[i], period, station_id=station.pk) for i in FIGURES},
                zero_is_small=False,
            ),
        )
        for station in PoliceStation.objects.order_by("code")
    ]


def _period(request: HttpRequest) -> Period:
    """The month asked for (YYYY-MM), this month when none is; a month that cannot be
    read is said so and this month shown."""
    text = request.GET.get("month", "").strip()
    if text:
        try:
            return Period.parse(text)
        except ValueError as exc:
            messages.error(request, str(exc))
    return Period.of(clock.today())


@require_GET
@requires("file_referral")
def summary(request: HttpRequest) -> HttpResponse:
    if not at_bureau(request.user):
        raise Http404
    period = _period(request)
    rows = bureau_rows(period.start, period.end)
    with transaction.atomic():
        record("referral_list_read", target="bureau:stations", count=len(rows))
    return render(
        request,
        "ops/station_summary.html",
        {
            "period": period,
            "figures": [BY_ID[i] for i in FIGURES],
            "stations": station_figures(period),
            "rows": rows,
        },
    )
