"""What the inpatient actions share: the permission check and the audit helper."""

from __future__ import annotations

from django.utils.translation import gettext as _

from pingan.accounts.roles import perm
from pingan.audit.context import acting_user
from pingan.audit.log import record

from .rules import Refusal


def require(user, codename: str) -> None:
    if user is None or not user.has_perm(perm(codename)):
        raise Refusal(_("Your role may not do this."), code="forbidden")


def audit(user, action: str, target: str = "", **detail) -> None:
    with acting_user(user):
        record(action, target=target, **detail)
