"""Read models of the outbox screen (never the text: it carries the day's PIN)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import SmsMessage, Status


def outbox(status: str = "") -> QuerySet[SmsMessage]:
    rows = SmsMessage.objects.select_related("client").order_by("-created_at")
    if status in Status.values:
        rows = rows.filter(status=status)
    return rows


def counts() -> dict[str, int]:
    found = dict(SmsMessage.objects.values_list("status").annotate(n=Count("pk")))
    return {s: found.get(s, 0) for s in Status.values}
