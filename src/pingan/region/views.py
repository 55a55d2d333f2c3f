from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core.domain import Refusal

from . import actions
from .current import current_centre, remember


@requires()
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """The header's centre switch: work in another of one's centres from now on."""
    try:
        centre = actions.switch_centre(request.user, request.POST.get("centre", ""))
    except Refusal as refusal:
        here = current_centre(request)
        text = refusal.message
        if here is not None:
            text += " " + _("You are still working in %(name)s.") % {"name": here.name}
        messages.error(request, text)
    else:
        remember(request, centre)
        messages.success(request, _("You are now working in %(name)s.") % {"name": centre.name})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "/"
    # An address, never a URL name: `redirect` would look "a:b" up as a view and fail.
    return HttpResponseRedirect(back or "/")
