"""Delivery reports from the SMS gateway: GET /api/messaging/dlr/<token>/?status=N.

Kannel calls this on loopback; the per-message token in the path is the authentication
(it is random, and only the gateway ever saw it), so no session or CSRF is involved."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET

from pingan.audit.context import Actor, acting_as

from . import actions


@require_GET
def delivery_report(request, token: str):
    raw = request.GET.get("status", "")
    if not raw.lstrip("-").isdigit() or len(raw) > 5:
        return HttpResponse("status must be a number\n", status=400, content_type="text/plain")
    ip = request.META.get("REMOTE_ADDR", "")
    with acting_as(Actor(username="sms-gateway", role="gateway", ip=ip)):
        known = actions.record_delivery_report(token, int(raw), request.GET.get("at", ""))
    if not known:
        return HttpResponseNotFound("unknown message\n", content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
