"""Read models of the lockbox app."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from pingan.registry.actions import live_consents
from pingan.registry.models import Client, Purpose

from .models import Box, BoxAlert, BoxEvent


def boxes(include_retired: bool = False, centre_id: int | None = None) -> QuerySet[Box]:
    """The boxes, of one centre when `centre_id` is given (every centre without it)."""
    last = BoxEvent.objects.filter(box=OuterRef("pk")).order_by("-at").values("at")[:1]
    rows = Box.objects.select_related("client").annotate(last_event_at=Subquery(last))
    if centre_id is not None:
        rows = rows.filter(centre_id=centre_id)
    if not include_retired:
        rows = rows.filter(retired_on__isnull=True)
    return rows.order_by("-issued_on", "label")


def _alerts(centre_id: int | None) -> QuerySet[BoxAlert]:
    rows = BoxAlert.objects.all()
    return rows if centre_id is None else rows.filter(box__centre_id=centre_id)


def open_alerts(centre_id: int | None = None) -> QuerySet[BoxAlert]:
    """Alerts not yet acknowledged (a "not opened" alert among them), of one centre's boxes
    when `centre_id` is given."""
    return (
        _alerts(centre_id)
        .filter(acknowledged_at__isnull=True)
        .select_related("box", "box__client")
        .order_by("-at")
    )


def recent_acknowledged(limit: int = 20, centre_id: int | None = None) -> QuerySet[BoxAlert]:
    return (
        _alerts(centre_id)
        .filter(acknowledged_at__isnull=False)
        .select_related("box", "box__client", "acknowledged_by")
        .order_by("-acknowledged_at")[:limit]
    )


def home_status_for_police(client: Client) -> str | None:
    """What the police may see of a box (docs/confidentiality.md and docs/lockbox-protocol.md): "inside" or "outside" the
    home area at the latest reduced location, only for a client with a live
    `box_location` consent; None otherwise (no consent, no box, or no location yet).
    Never a trace, a time series, coordinates or anything clinical."""
    if Purpose.BOX_LOCATION not in live_consents(client):
        return None
    latest = (
        BoxEvent.objects.filter(
            box__client=client,
            box__retired_on__isnull=True,
            type="location",
            inside_geofence__isnull=False,
        )
        .order_by("-at")
        .values_list("inside_geofence", flat=True)
        .first()
    )
    if latest is None:
        return None
    return "inside" if latest else "outside"
