"""The bureau's view of the bottle recalls: per month, how many recalls were made and how
many became incidents (returned short or missed), nothing client by client, and every
count under 5 suppressed (docs/recalls.md, docs/confidentiality.md).

Here rather than in `recalls` because the suppression rule lives in `indicators`, a layer
below the recalls app's."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.indicators.definitions import SMALL_CELL
from pingan.indicators.suppression import Cells, protect
from pingan.recalls.queries import monthly_counts

MONTHS = 12
FIGURES = ("recalls", "incidents")


def _months_back(today: date, n: int) -> date:
    index = today.year * 12 + today.month - 1 - (n - 1)
    return date(index // 12, index % 12 + 1, 1)


def suppressed(rows: list[dict]) -> list[dict]:
    """Each month's figures, a figure under SMALL_CELL (zero included) and any figure that
    would give it away replaced by None."""
    out = []
    for row in rows:
        cells = Cells()
        for name in FIGURES:
            cells.add(name, row[name], protect=row[name] < SMALL_CELL)
        hidden = protect(cells)
        out.append(
            {"month": row["month"]}
            | {name: None if name in hidden else row[name] for name in FIGURES}
        )
    return out


@require_GET
@requires("view_indicators")
def summary(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    rows = suppressed(monthly_counts(_months_back(today, MONTHS), today))
    return render(
        request,
        "ops/recall_summary.html",
        {"rows": list(reversed(rows)), "small_cell": SMALL_CELL},
    )
