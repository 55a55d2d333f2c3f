"""What every action needs, written once: the refusal it raises, the permission check it
starts with, and the actor its audit entries name.

An action (`<app>/actions.py`) looks like this::

    def place_hold(client, kind, reason, by):
        require(by, "record_dose", "prescribe", any_of=True)
        ...validate, raising Refusal(_("..."), code="...")...
        with acting(by), transaction.atomic():
            ...write rows...
            record("hold_place", ...)

- `Refusal` is Django's `ValidationError` with a translated message and a code: forms,
  `core.posting.run_form` and `core.posting.refusals` show it like any invalid input, and
  because it is raised before the transaction or inside it, nothing is written.
- `require` is the action's own guard, whatever view, command or test calls it. A user
  without the permission gets `Forbidden`, which is both a `Refusal` (a screen that shows
  refusals says "Your role may not do this.") and Django's `PermissionDenied` (left
  uncaught in a request, Django answers 403). Views still declare their permissions with
  `@requires`, so a role that may not use a screen gets its 403 before any action runs.
- `acting` names the audit actor. A request has one already (the audit middleware sets it
  from the signed-in user); a command sets its own (role `command`); a test or a job that
  calls an action directly gets the user it passes.

This module is the bottom layer: it imports no app. The list of roles is read from
`settings.PINGAN_ROLES`, the permissions are the `accounts` app's by label.
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

# The app label of the model that holds the project's permissions (`accounts.Permit`).
PERMISSION_APP = "accounts"
# The actor role of a management command run on the server (see `require`).
COMMAND_ROLE = "command"


class Refusal(ValidationError):
    """An action says no: `message` is already in the user's language, `code` names the
    reason for screens and tests. With `field`, the refusal belongs to that form field.
    `message` may also be a list of messages (every reason at once)."""

    def __init__(self, message: str | list[str], code: str = "invalid", field: str = ""):
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
        else:
            super().__init__(message, code=code)
        self.message = " ".join(message) if isinstance(message, list | tuple) else message
        self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class Forbidden(Refusal, PermissionDenied):
    """The user's role may not do this (see the module's docstring for the two faces)."""

    def __init__(self) -> None:
        super().__init__(_("Your role may not do this."), code="forbidden")


def required_reason(text: str | None, limit: int = 300) -> str:
    """The reason staff gave (trimmed, cut to `limit`), or a refusal when there is none."""
    text = (text or "").strip()
    if not text:
        raise Refusal(_("A reason is required."), code="reason")
    return text[:limit]


def permission(codename: str) -> str:
    """The full name `has_perm` wants for one of the project's permissions."""
    return f"{PERMISSION_APP}.{codename}"


# The actor -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    username: str = ""
    role: str = ""
    ip: str = ""


_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("pingan_actor", default=Actor())


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Name `actor` for everything recorded inside the block."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def role_of(user) -> str:
    """The user's role: the group of theirs named in `settings.PINGAN_ROLES` ('' if none);
    a superuser without one counts as manager."""
    if user is None or not user.is_authenticated:
        return ""
    names = [g.name for g in user.groups.all() if g.name in settings.PINGAN_ROLES]
    if names:
        return names[0]
    return "manager" if user.is_superuser else ""


@contextmanager
def acting(user) -> Iterator[Actor]:
    """Name `user` as the actor when nothing else has (a command, a test or a background job
    calling an action directly); a request's actor, set by the middleware, is kept. Enter it
    before taking any lock: naming the role reads the user's groups."""
    current = _actor.get()
    if current.username or user is None or not getattr(user, "is_authenticated", False):
        yield current
        return
    with acting_as(Actor(user.get_username(), role_of(user), current.ip)) as actor:
        yield actor


@contextmanager
def operator() -> Iterator[Actor]:
    """Act as the centre's operator: a management command run on the server, named in the
    audit by the login that ran it (`cli:<login>`). Actions called inside need no user."""
    with acting_as(Actor(f"cli:{getpass.getuser()}", COMMAND_ROLE)) as actor:
        yield actor


# The permission check ------------------------------------------------------------------------


def may(user, *codenames: str, any_of: bool = False) -> bool:
    """Whether `user` holds every listed permission (with `any_of`, at least one)."""
    if user is None or not codenames:
        return False
    checks = (user.has_perm(permission(c)) for c in codenames)
    return any(checks) if any_of else all(checks)


def require(user, *codenames: str, any_of: bool = False) -> None:
    """Refuse (`Forbidden`) unless `user` holds every listed permission (with `any_of`, at
    least one). No user at all is refused too, except inside a management command run on
    the server (actor role `command`): whoever runs it is the centre's operator."""
    if user is None and current_actor().role == COMMAND_ROLE:
        return
    if not may(user, *codenames, any_of=any_of):
        raise Forbidden
