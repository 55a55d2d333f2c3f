"""Every URL of the project against every role (docs/confidentiality.md: every view declares what it
needs; a role without it gets 403 and the attempt is audited).

The URL list is read from the resolver at collection time, so a new view anywhere in the
project is checked without touching this file. Only the PUBLIC allow-list below escapes
the check; adding to it is a deliberate, reviewed act."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pingan.accounts.roles import ROLES, perm
from pingan.audit.models import AuditEntry

# Views anyone may reach without a role, by qualified URL name…
PUBLIC_NAMES = {
    "accounts:login",  # the sign-in page itself
    "accounts:verify",  # the second step of signing in (checks sign-in itself)
    "accounts:logout",  # signing out is always allowed (POST only)
    "set_language",  # the language switcher on the sign-in page
}
# …and by path prefix (static files; the lockbox API authenticates each box by HMAC; the
# SMS gateway's delivery reports carry a per-message token).
PUBLIC_PREFIXES = ("static/", "api/lockbox/", "api/messaging/")

_CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")
_FILL = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "1", "str": lambda: "x"}
_FILL.update(slug=_FILL["str"], path=_FILL["str"])


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name or "", entry.callback


def _concrete(route: str) -> str:
    """A requestable path for a route, filling each converter with a plausible value."""

    def fill(match: re.Match) -> str:
        kind = match.group("kind") or "str"
        if kind not in _FILL:
            raise AssertionError(f"no test value for path converter {kind!r} in {route}")
        return _FILL[kind]()

    if route.startswith("^") or "(?P" in route:
        raise AssertionError(f"{route}: use path() with converters, not regular expressions")
    return "/" + _CONVERTER.sub(fill, route)


def _is_public(route: str, name: str) -> bool:
    return name in PUBLIC_NAMES or route.startswith(PUBLIC_PREFIXES)


ROUTES = [r for r in _walk(get_resolver().url_patterns) if not _is_public(r[0], r[1])]


def _allowed(user: User, callback) -> bool:
    codenames = callback.required_permissions
    if not codenames:
        return True
    checks = [user.has_perm(perm(c)) for c in codenames]
    return any(checks) if getattr(callback, "permissions_any_of", False) else all(checks)


def test_the_walk_finds_the_project_urls():
    names = {name for _, name, _ in ROUTES}
    assert {"home", "accounts:profile", "accounts:police_home"} <= names
    assert "accounts:login" not in names


def _request(client, url: str):
    """GET, or POST (empty) for a view that only accepts POST: the permission check must
    come before anything else either way. An exception counts as a 500."""
    try:
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
    except Exception as exc:  # noqa: BLE001 - reported with the URL and role below
        return 500, repr(exc)[:300]
    return response.status_code, response.get("Location", "")


@pytest.mark.parametrize(("route", "name", "callback"), ROUTES, ids=[r[0] or "/" for r in ROUTES])
def test_view_declares_and_enforces_permissions(route, name, callback, client, users):
    assert hasattr(callback, "required_permissions"), (
        f"{route} ({name}) declares no permissions: decorate it with @requires(...)"
    )
    url = _concrete(route)

    status, where = _request(client, url)
    assert status == 302, f"anonymous {url}: {status} {where}"
    assert where.startswith(reverse("accounts:login")), where

    superuser = User.objects.create_superuser("root", password="x-unused-password-1")
    accounts = {**users, "superuser": superuser}
    problems = []
    for role, user in accounts.items():
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        status, detail = _request(client, url)
        if _allowed(user, callback):
            if status in (403, 500):
                problems.append(f"{role}: {status} {detail}, expected access")
        else:
            if status != 403:
                problems.append(f"{role}: {status}, expected 403")
            elif not AuditEntry.objects.filter(
                action="access_denied", username=user.username, target=url[:120]
            ).exists():
                problems.append(f"{role}: 403 without an access_denied audit entry")
        client.logout()
    assert not problems, f"{url} ({name}): " + "; ".join(problems)


def test_every_role_is_covered():
    """The matrix walks the roles the product defines; a new role joins it automatically."""
    assert set(ROLES) == {"nurse", "clinician", "manager", "cdc", "police"}
