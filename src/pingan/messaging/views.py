"""The outbox screen: what was sent, what waits, what failed or needs checking and why;
staff send a message again or confirm that it went (docs/sms-gateway.md)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals
from pingan.region.current import in_centre

from . import actions, queries
from .models import SmsMessage, Status


@requires("manage_messaging")
def outbox(request):
    status = request.GET.get("status", "")
    page = Paginator(queries.outbox(status), 100).get_page(request.GET.get("page"))
    counts = queries.counts()
    return render(
        request,
        "messaging/outbox.html",
        {
            "page": page,
            "status": status,
            "statuses": [(value, label, counts[value]) for value, label in Status.choices],
            "needs_checking": counts[Status.UNKNOWN],
        },
    )


@requires("manage_messaging")
@require_POST
def retry(request, external_id):
    message = get_object_or_404(
        in_centre(request, SmsMessage.objects.all()), external_id=external_id
    )
    with refusals(request) as outcome:
        actions.retry(message, request.user)
    if not outcome.refused:
        messages.success(request, _("The message is queued again; it goes with the next run."))
    return redirect("messaging:outbox")


@requires("manage_messaging")
@require_POST
def confirm(request, external_id):
    message = get_object_or_404(SmsMessage, external_id=external_id)
    with refusals(request) as outcome:
        actions.confirm_sent(message, request.user)
    if not outcome.refused:
        messages.success(request, _("Marked as sent; it will not be sent again."))
    return redirect("messaging:outbox")
