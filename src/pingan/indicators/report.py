"""The monthly report as CSV and PDF (WeasyPrint), in Chinese or English.

Both leave the centre, so both are built from the suppressed set (`suppression.py`), the
stricter rule of figures leaving the region (a zero counts as small). Charts are SVG drawn by `charts.py`; WeasyPrint renders
Chinese with Debian's `fonts-noto-cjk` (the stylesheet asks for Noto Sans CJK SC).
"""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.audit import anchor
from pingan.core import clock, numbers

from . import queries
from .charts import line_chart
from .definitions import BY_ID, INDICATORS, SECTIONS, IndicatorSet, Period

HIDDEN = gettext_lazy("Hidden to protect privacy")
NO_DATA = gettext_lazy("No data")
UNITS = {
    "people": gettext_lazy("people"),
    "days": gettext_lazy("days"),
    "samples": gettext_lazy("samples"),
    "mg": "mg",
    "kits": gettext_lazy("kits"),
    "sessions": gettext_lazy("sessions"),
    "bed-days": gettext_lazy("bed-days"),
}


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def csv_rows(result: IndicatorSet) -> list[list[str]]:
    """Header and one row per indicator, in the active language."""
    rows = [
        [
            "period",
            "indicator",
            _("Indicator"),
            "value",
            "numerator",
            "denominator",
            "ci_low",
            "ci_high",
            "suppressed",
            "note",
        ]
    ]
    for ind in INDICATORS:
        r = result.results[ind.id]
        rows.append(
            [
                str(result.period),
                ind.id,
                str(ind.label),
                _num(r.value),
                _num(r.numerator),
                _num(r.denominator),
                _num(r.ci_low),
                _num(r.ci_high),
                "1" if r.suppressed else "",
                r.note,
            ]
        )
    return rows


def monthly_csv(period: Period, language: str, centre_id: int | None = None) -> str:
    """The month's suppressed set as CSV (UTF-8 with a BOM so spreadsheet programs on
    Chinese Windows read it as UTF-8): one centre's when `centre_id` is given, else the
    region's."""
    with translation.override(language):
        result = queries.for_audience([queries.month(period, centre_id)], full=False)[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(csv_rows(result))
        return "\ufeff" + buffer.getvalue()


def display(ind, r) -> str:
    """One figure as people read it: a share as a percentage (98.6 %), a mean with its
    unit (62.5 mg), a count as a whole number; a hidden figure says why, and a figure
    with nothing to count (0 of 0) says there is no data."""
    if r.suppressed and r.value is None:
        return str(HIDDEN)
    if r.value is None:
        return r.note or str(NO_DATA)
    if ind.kind == "rate":
        return numbers.percent(r.value)
    if ind.kind == "mean":
        return f"{r.value:,.1f} {unit_name(ind)}".strip()
    return numbers.count(r.value)


def interval(r) -> str:
    """The 95% interval of a share, in percentages."""
    if r.ci_low is None or r.ci_high is None:
        return ""
    return f"{r.ci_low * 100:.1f}–{r.ci_high * 100:.1f}{numbers.PERCENT_SIGN}"


def unit_name(ind) -> str:
    """What the values of an indicator are measured in, for a value or a chart's axis."""
    if ind.kind == "rate":
        return "%"
    return str(UNITS.get(ind.unit, ""))


def axis_label(ind) -> str:
    return "%" if ind.kind == "rate" else unit_name(ind)


def report_context(period: Period, centre=None) -> dict:
    """The report of one centre (`centre`) or, without it, of the region pooled."""
    from .freshness import trend

    sets = queries.for_audience(trend(period, centre_id=centre.pk if centre else None), full=False)
    current = sets[-1]
    sections = []
    for key, title in SECTIONS.items():
        rows = []
        for ind in INDICATORS:
            if ind.section != key:
                continue
            r = current.results[ind.id]
            rows.append({"ind": ind, "r": r, "shown": display(ind, r), "ci": interval(r)})
        sections.append({"title": title, "rows": rows})
    charts = [
        line_chart(s.label, s.months, s.values, axis_label(BY_ID[s.id]))
        for s in queries.series(sets)
        if any(v is not None for v in s.values)
    ]
    return {
        "period": period,
        "centre": centre,
        "sections": sections,
        "charts": charts,
        "generated": clock.localtime(),
        # The audit log's anchor on paper: the last signed checkpoint by the period's end.
        "checkpoint": anchor.latest(period.end),
    }


def monthly_pdf(period: Period, language: str, centre=None) -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(
            "indicators/report.html", {**report_context(period, centre), "language": language}
        )
    return HTML(string=html).write_pdf()
