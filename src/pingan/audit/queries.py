"""Reading the audit log for the manager's screen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEntry


def search(
    client_code: str = "",
    username: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    centre_id: int | None = None,
    members: Iterable[str] = (),
) -> QuerySet[AuditEntry]:
    """Newest first; dates are whole days in the centre's time zone. With `centre_id`, one
    centre's entries: its own chain, and the entries of the region chain (sign-ins, the
    centre switch) written by its `members`."""
    rows = AuditEntry.objects.all()
    if centre_id is not None:
        rows = rows.filter(
            Q(centre_id=centre_id) | Q(centre__isnull=True, username__in=list(members))
        )
    if client_code:
        rows = rows.filter(client_code__iexact=client_code.strip())
    if username:
        rows = rows.filter(username__iexact=username.strip())
    if action:
        rows = rows.filter(action=action)
    tz = timezone.get_current_timezone()
    if date_from:
        rows = rows.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        rows = rows.filter(
            at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        )
    return rows.order_by("-id")


def actions() -> list[str]:
    """The distinct action codes in the log. The model's default ordering (by sequence)
    is cleared first: with it, DISTINCT would apply to (action, seq), one row per entry."""
    return sorted(AuditEntry.objects.order_by().values_list("action", flat=True).distinct())


def usernames() -> list[str]:
    """Everyone who wrote to the log, for the user filter's suggestions."""
    return sorted(
        AuditEntry.objects.order_by()
        .exclude(username="")
        .values_list("username", flat=True)
        .distinct()
    )
