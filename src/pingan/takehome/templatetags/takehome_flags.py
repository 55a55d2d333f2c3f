"""Take-home panels that pages of lower apps show by name (the registry's client page,
dosing's clinician worklist), so those apps import nothing from take-home."""

from __future__ import annotations

from django import template

from pingan.core.domain import permission

from .. import flags

register = template.Library()


def _may_review(context) -> bool:
    user = getattr(context.get("request"), "user", None) or context.get("user")
    return bool(user and user.has_perm(permission(flags.REVIEW_PERMISSION)))


@register.inclusion_tag("takehome/_methadone_flags.html", takes_context=True)
def methadone_flags(context, client=None, back: str = "client"):
    """Open methadone-negative flags, of one client or of the centre, for a clinician;
    nothing for anyone else (police and other roles never see a client's flag)."""
    if not _may_review(context):
        return {"show": False}
    return {
        "show": True,
        "flags": flags.open_flags(client),
        "one_client": client is not None,
        "back": back,
        "csrf_token": context.get("csrf_token"),
    }
