"""The screen that clears a methadone-negative flag: thin, the clinician's. The flags
themselves are shown on the client page and the clinician's worklist (templatetags)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core.posting import refusals
from pingan.labs.models import UrineSample
from pingan.region.current import in_centre

from . import flags


@require_POST
@requires(flags.REVIEW_PERMISSION)
def clear(request: HttpRequest, external_id) -> HttpResponse:
    sample = get_object_or_404(
        in_centre(request, UrineSample.objects.select_related("client")), external_id=external_id
    )
    with refusals(request) as outcome:
        flags.clear_flag(sample, request.POST.get("note"), request.user)
    if not outcome.refused:
        messages.success(request, _("The methadone-negative flag is cleared."))
    if request.POST.get("back") == "worklist":
        return redirect("dosing:worklist")
    return redirect("registry:detail", external_id=sample.client.external_id)
