"""Puts the request's current centre into the audit context, so what a staff member does
joins their centre's audit chain. It lives here, not in audit: only the region knows where
someone works.

Only a request that arrives signed in has a centre: signing in (and every failed attempt)
joins the region's chain. The centre is looked up once, when something is first recorded,
and never created (before the first centre exists, entries join the region's chain)."""

from pingan.audit.context import in_centre
from pingan.core.models import Centre

from .current import current_centre


class AuditCentreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        found: list[Centre | None] = []

        def centre() -> Centre | None:
            if not found:
                found.append(current_centre(request) if Centre.objects.exists() else None)
            return found[0]

        with in_centre(centre):
            return self.get_response(request)
