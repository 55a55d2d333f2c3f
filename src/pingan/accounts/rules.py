"""What a manager may do to a staff account, with the reason when not."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .roles import ROLES


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOWED = Decision(True)


def may_change_role(actor, target, role: str) -> Decision:
    """A manager cannot change their own role: the centre would lose its last manager."""
    if role not in ROLES:
        return Decision(False, _("Unknown role."))
    if actor.pk == target.pk:
        return Decision(False, _("You cannot change your own role."))
    return ALLOWED


def may_set_active(actor, target, active: bool) -> Decision:
    """Nobody deactivates their own account (it would lock the centre out of staff management)."""
    if not active and actor.pk == target.pk:
        return Decision(False, _("You cannot deactivate your own account."))
    return ALLOWED


def may_remove_totp(user) -> Decision:
    """When the manager requires a second factor, it can be replaced but not removed."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.require_totp:
        return Decision(
            False,
            _(
                "The centre manager requires a second factor for your account; it cannot be removed."
            ),
        )
    return ALLOWED
