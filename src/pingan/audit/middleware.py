"""Puts the signed-in user, role and address into the audit context for each request."""

from pingan.core.domain import Actor, acting_as, role_of


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        actor = Actor(
            username=user.get_username() if user and user.is_authenticated else "",
            role=role_of(user) if user and user.is_authenticated else "",
            ip=_client_ip(request),
        )
        with acting_as(actor):
            return self.get_response(request)
