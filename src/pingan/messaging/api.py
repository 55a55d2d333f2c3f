"""Delivery reports from the SMS gateway: GET /api/messaging/dlr/<token>/?status=N.

Kannel calls this on loopback; the per-message token in the path is the authentication
(it is random, and only the gateway ever saw it), so no session or CSRF is involved.
`status` must be one of Kannel's report types (rules.REPORT_CODES), anything else is a
400 that stores nothing."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET

from pingan.core.domain import Actor, acting_as

from . import actions, rules


@require_GET
def delivery_report(request, token: str):
    status = rules.report_status(request.GET.get("status", ""))
    if status is None:
        codes = ", ".join(str(code) for code in rules.REPORT_CODES)
        return HttpResponse(
            f"status must be one of {codes}\n", status=400, content_type="text/plain"
        )
    # The gateway's own time of the report, kept as a note: printable characters only
    # (PostgreSQL refuses a NUL in text).
    at = "".join(c for c in request.GET.get("at", "")[:200] if c.isprintable())
    ip = request.META.get("REMOTE_ADDR", "")
    with acting_as(Actor(username="sms-gateway", role="gateway", ip=ip)):
        known = actions.record_delivery_report(token, status, at)
    if not known:
        return HttpResponseNotFound("unknown message\n", content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
