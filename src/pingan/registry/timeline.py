"""One client's history in one list: enrolments and discharges, a monthly dose summary,
tests, take-home steps, referrals and services (staff with view_client only).

Doses are summarised per month (count and mean mg) rather than listed: a year of daily
doses would drown everything else. Apps that are not installed are simply left out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.apps import apps
from django.db.models import Avg, Count, Max
from django.db.models.functions import TruncMonth
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Client

KINDS = {
    "episode": gettext_lazy("Enrolments and discharges"),
    "dose": gettext_lazy("Doses"),
    "test": gettext_lazy("Tests"),
    "takehome": gettext_lazy("Take-home"),
    "referral": gettext_lazy("Referrals"),
    "service": gettext_lazy("Services"),
    "naloxone": gettext_lazy("Naloxone"),
}
LIMIT = 400


@dataclass(frozen=True)
class TimelineItem:
    on: date
    kind: str
    title: str
    detail: str = ""
    url: str = ""

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])


def _url(name: str, external_id) -> str:
    try:
        return reverse(name, kwargs={"external_id": external_id})
    except NoReverseMatch:
        return ""


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _episodes(client: Client) -> list[TimelineItem]:
    items = []
    for e in client.episodes.all():
        items.append(TimelineItem(e.enrolled_on, "episode", _("Enrolled")))
        if e.discharged_on:
            items.append(
                TimelineItem(
                    e.discharged_on, "episode", _("Discharged"), e.get_discharge_reason_display()
                )
            )
    return items


def _doses(client: Client) -> list[TimelineItem]:
    Dose = _model("dosing.Dose")
    if Dose is None:
        return []
    url = _url("dosing:client", client.external_id)
    months = (
        Dose.objects.filter(client=client)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(n=Count("id"), mean=Avg("mg"), last=Max("date"))
        .order_by()
    )
    return [
        TimelineItem(
            m["last"],
            "dose",
            _("Doses in %(month)s: %(n)d") % {"month": m["last"].strftime("%Y-%m"), "n": m["n"]},
            _("mean %(mg)s mg") % {"mg": f"{m['mean']:.0f}"},
            url,
        )
        for m in months
    ]


def _tests(client: Client) -> list[TimelineItem]:
    items = []
    url = _url("labs:client", client.external_id)
    UrineSample = _model("labs.UrineSample")
    if UrineSample is not None:
        for s in UrineSample.objects.filter(client=client).prefetch_related("results"):
            positive = [r.get_analyte_display() for r in s.results.all() if r.result == "positive"]
            detail = (
                _("positive: %(list)s") % {"list": ", ".join(str(p) for p in positive)}
                if positive
                else _("all negative")
            )
            items.append(TimelineItem(s.collected_on, "test", _("Urine screen"), detail, url))
    InfectionTest = _model("labs.InfectionTest")
    if InfectionTest is not None:
        for t in InfectionTest.objects.filter(client=client):
            items.append(
                TimelineItem(
                    t.tested_on, "test", str(t.get_test_display()), str(t.get_result_display()), url
                )
            )
    return items


def _takehome(client: Client) -> list[TimelineItem]:
    items = []
    Request = _model("takehome.TakeHomeRequest")
    if Request is not None:
        for r in Request.objects.filter(client=client):
            items.append(
                TimelineItem(
                    r.requested_on,
                    "takehome",
                    _("Take-home request: %(n)d day(s)") % {"n": r.days_requested},
                    str(r.get_status_display()),
                )
            )
    Bottle = _model("takehome.TakeHomeBottle")
    if Bottle is not None:
        months: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        last: dict[date, date] = {}
        for day, status in Bottle.objects.filter(client=client).values_list("day", "status"):
            key = day.replace(day=1)
            months[key][status] += 1
            last[key] = max(last.get(key, day), day)
        for key, counts in months.items():
            items.append(
                TimelineItem(
                    last[key],
                    "takehome",
                    _("Take-home bottles in %(month)s: %(n)d")
                    % {"month": key.strftime("%Y-%m"), "n": sum(counts.values())},
                    _("returned %(r)d, missing %(m)d")
                    % {"r": counts.get("returned", 0), "m": counts.get("missing", 0)},
                )
            )
    return items


def _referrals(client: Client) -> list[TimelineItem]:
    items = []
    Police = _model("referrals.PoliceReferral")
    if Police is not None:
        for r in Police.objects.filter(client=client, merged_into__isnull=True):
            items.append(
                TimelineItem(
                    r.referred_on, "referral", _("Police referral"), str(r.get_status_display())
                )
            )
    Care = _model("referrals.CareReferral")
    if Care is not None:
        url = _url("referrals:client", client.external_id)
        for r in Care.objects.filter(client=client).select_related("partner"):
            items.append(
                TimelineItem(
                    r.sent_on,
                    "referral",
                    _("Care referral sent: %(kind)s") % {"kind": r.get_kind_display()},
                    r.partner.name,
                    url,
                )
            )
            if r.completed_on:
                items.append(
                    TimelineItem(
                        r.completed_on,
                        "referral",
                        _("Care referral completed: %(kind)s") % {"kind": r.get_kind_display()},
                        str(r.get_outcome_display()),
                        url,
                    )
                )
    return items


def _services(client: Client) -> list[TimelineItem]:
    Attendance = _model("services.Attendance")
    if Attendance is None:
        return []
    rows = Attendance.objects.filter(client=client).select_related("session")
    return [
        TimelineItem(
            a.session.date,
            "service",
            str(a.session.get_kind_display()),
            a.session.topic,
            _url("services:session", a.session.external_id),
        )
        for a in rows
    ]


def _naloxone(client: Client) -> list[TimelineItem]:
    Kit = _model("services.NaloxoneKit")
    if Kit is None:
        return []
    return [
        TimelineItem(
            k.handed_on, "naloxone", _("Naloxone kit handed out"), str(k.get_used_display())
        )
        for k in Kit.objects.filter(client=client)
    ]


_SOURCES = {
    "episode": _episodes,
    "dose": _doses,
    "test": _tests,
    "takehome": _takehome,
    "referral": _referrals,
    "service": _services,
    "naloxone": _naloxone,
}


def parse_kinds(values: list[str]) -> set[str]:
    """The kinds asked for in the query string; none (or only unknown ones) means all."""
    chosen = {v for v in values if v in KINDS}
    return chosen or set(KINDS)


def timeline(client: Client, kinds: set[str] | None = None) -> list[TimelineItem]:
    """Newest first; at most LIMIT items."""
    chosen = kinds or set(KINDS)
    items: list[TimelineItem] = []
    for kind in KINDS:
        if kind in chosen:
            items.extend(_SOURCES[kind](client))
    items.sort(key=lambda i: (i.on, i.kind), reverse=True)
    return items[:LIMIT]
