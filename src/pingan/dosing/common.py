"""What the dosing actions share: their refusal type and the audit helper."""

from __future__ import annotations

from contextlib import nullcontext

from django.utils.translation import gettext as _

from pingan.accounts.roles import role_of
from pingan.audit.context import Actor, acting_as, current_actor
from pingan.audit.log import record


class DosingError(Exception):
    """A refusal the user can act on; the message is already translated."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class StockError(DosingError):
    pass


def audit(by, action: str, target: str = "", client_code: str = "", **detail) -> None:
    """Audit as the request's actor, or as `by` when called from a command or a test."""
    context = (
        acting_as(Actor(by.get_username(), role_of(by), ""))
        if by is not None and not current_actor().username
        else nullcontext()
    )
    with context:
        record(action, target=target, client_code=client_code, **detail)


def clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DosingError(_("A reason is required."), code="reason")
    return reason[:300]
