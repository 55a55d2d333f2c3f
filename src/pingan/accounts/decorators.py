"""How a view declares what it needs: `@requires("record_dose")`.

Not signed in: redirect to the login page. Signed in without the permission: 403, and the
403 handler audits the attempt (DESIGN.md §1)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .roles import perm


def requires(*codenames: str, any_of: bool = False):
    """Require every listed permission (or, with any_of=True, at least one)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            checks = [user.has_perm(perm(c)) for c in codenames]
            if not (any(checks) if any_of else all(checks)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permissions = codenames  # read by the permission-matrix test
        return wrapped

    return decorator
