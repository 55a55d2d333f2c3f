"""How a view declares what it needs: `@requires("record_dose")`.

Not signed in: redirect to the login page. Signed in but the second factor still owed:
redirect to the verification step, so a stolen password alone opens nothing. Signed in
without the permission: 403, and the 403 handler audits the attempt (docs/confidentiality.md).

`@requires()` with no permission means "any signed-in staff member" (start page, profile);
the view still declares it, so the permission-matrix test can tell it was meant."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .otp import redirect_to_verify, second_factor_pending
from .roles import perm


def requires(*codenames: str, any_of: bool = False):
    """Require every listed permission (or, with any_of=True, at least one)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if second_factor_pending(user):
                return redirect_to_verify(request)
            checks = [user.has_perm(perm(c)) for c in codenames]
            if checks and not (any(checks) if any_of else all(checks)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        # Read by the permission-matrix test.
        wrapped.required_permissions = codenames
        wrapped.permissions_any_of = any_of
        return wrapped

    return decorator
