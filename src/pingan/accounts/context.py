from django.conf import settings

from .roles import role_of


def role(request):
    """The signed-in user's role, for navigation and the header."""
    user = getattr(request, "user", None)
    name = role_of(user) if user is not None else ""
    return {"role": name, "role_label": settings.PINGAN_ROLES.get(name, "")}
