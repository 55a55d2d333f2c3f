"""The outbox screen: what was sent, what waits, what failed and why; a retry button."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires

from . import actions, queries
from .models import SmsMessage, Status


@requires("manage_messaging")
def outbox(request):
    status = request.GET.get("status", "")
    page = Paginator(queries.outbox(status), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/outbox.html",
        {"page": page, "status": status, "statuses": _statuses()},
    )


def _statuses() -> list[tuple[str, str, int]]:
    counts = queries.counts()
    return [(value, label, counts[value]) for value, label in Status.choices]


@requires("manage_messaging")
@require_POST
def retry(request, external_id):
    message = get_object_or_404(SmsMessage, external_id=external_id)
    actions.retry(message, request.user)
    messages.success(request, _("The message is queued again; it goes with the next run."))
    return redirect("messaging:outbox")
