"""Whether a user may open an address: the permissions its view declares with @requires.

Screens show a link only to users who may follow it (a link that answers 403 is a dead end
and an audited refusal); the view still checks, this only decides what to show."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from pingan.core.domain import permission as perm


def may_open(user, path: str) -> bool:
    """True when the view behind `path` lets `user` in (a view without @requires lets any
    signed-in user in); False for an address that resolves to nothing."""
    try:
        view = resolve(urlsplit(path).path).func
    except Resolver404:
        return False
    codenames = getattr(view, "required_permissions", ())
    if not codenames:
        return True
    if user is None or not user.is_authenticated:
        return False
    checks = [user.has_perm(perm(c)) for c in codenames]
    return any(checks) if getattr(view, "permissions_any_of", False) else all(checks)


def url_if_allowed(user, name: str, *args, **kwargs) -> str:
    """The address of a named view, or "" when it is not installed or the user may not
    open it."""
    try:
        url = reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch:
        return ""
    return url if may_open(user, url) else ""
