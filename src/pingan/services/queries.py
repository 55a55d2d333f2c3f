"""Read models for service screens and the service indicators' inputs (docs/indicators.md)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, QuerySet

from pingan.core import clock
from pingan.referrals.measure import Measure, month_bounds

from .models import KitUse, NaloxoneKit, ServiceKind, ServiceSession


def recent_sessions(limit: int = 50, centre_id: int | None = None) -> QuerySet[ServiceSession]:
    """The latest sessions, of one centre when `centre_id` is given."""
    rows = ServiceSession.objects.all()
    if centre_id is not None:
        rows = rows.filter(centre_id=centre_id)
    return (
        rows.select_related("staff")
        .annotate(attendees=Count("attendance"))
        .order_by("-date", "-created_at")[:limit]
    )


def kits(centre_id: int | None = None) -> QuerySet[NaloxoneKit]:
    """Naloxone kits, of one centre's clients when `centre_id` is given."""
    rows = NaloxoneKit.objects.all()
    return rows if centre_id is None else rows.filter(client__centre_id=centre_id)


def kits_due_follow_up(
    today: date | None = None, centre_id: int | None = None
) -> QuerySet[NaloxoneKit]:
    """Kits whose follow-up day has come and whose use is still unknown."""
    today = today or clock.today()
    return (
        kits(centre_id)
        .filter(used=KitUse.UNKNOWN, follow_up_on__lte=today)
        .select_related("client", "by")
        .order_by("follow_up_on")
    )


def naloxone_kits(period: date | str, centre_id: int | None = None) -> Measure:
    """Naloxone kits handed out in P (by hand-out date), to one centre's clients when
    `centre_id` is given. A count."""
    first, last = month_bounds(period)
    return Measure(kits(centre_id).filter(handed_on__gte=first, handed_on__lte=last).count())


def counselling_sessions(period: date | str, centre_id: int | None = None) -> Measure:
    """Psychological counselling sessions held in P, one-to-one and group alike, each
    session once whatever its attendance (of one centre when `centre_id` is given). A
    count."""
    first, last = month_bounds(period)
    rows = ServiceSession.objects.filter(
        kind=ServiceKind.COUNSELLING, date__gte=first, date__lte=last
    )
    if centre_id is not None:
        rows = rows.filter(centre_id=centre_id)
    return Measure(rows.count())
