"""The drop-out worklist as a panel that pages of lower apps show by name (dosing's
clinician worklist), so dosing imports nothing from services."""

from __future__ import annotations

from django import template

from pingan.core import clock
from pingan.core.domain import permission

from .. import outreach

register = template.Library()


@register.inclusion_tag("services/_dropouts_panel.html", takes_context=True)
def dropout_worklist(context):
    """Today's clients who stopped coming, for staff who may see clients; nothing for
    anyone else (the police never see a client here)."""
    user = getattr(context.get("request"), "user", None) or context.get("user")
    if not (user and user.has_perm(permission(outreach.VIEW_PERMISSION))):
        return {"show": False}
    return {"show": True, "rows": outreach.worklist(clock.today())}
