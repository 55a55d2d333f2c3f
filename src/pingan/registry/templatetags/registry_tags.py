"""Template helpers of the registry screens."""

from __future__ import annotations

from django import template
from django.urls import reverse

from pingan.accounts.reach import url_if_allowed
from pingan.core.domain import may
from pingan.core.models import Centre
from pingan.region.current import centre_id

register = template.Library()


@register.simple_tag(takes_context=True)
def optional_url(context, name: str, *args, **kwargs) -> str:
    """Like {% url %}, but "" when the name is not (yet) registered (the client page links
    to other apps' screens, which may not be installed in every deployment) or when the
    signed-in user may not open that screen (a link to a 403 is a dead end)."""
    return url_if_allowed(context.get("user"), name, *args, **kwargs)


@register.filter
def age_from(birth_year: int, year: int) -> int:
    return year - birth_year


@register.filter
def days_since(start, today):
    return None if start is None else (today - start).days


@register.simple_tag(takes_context=True)
def transfer_url(context, client) -> str:
    """The link to transfer `client` to another centre of the region, or "": only for a
    clinician working in the client's own centre, and only when there is another centre."""
    request = context.get("request")
    if request is None or client is None or not may(context.get("user"), "prescribe"):
        return ""
    if centre_id(request) != client.centre_id:
        return ""
    if not Centre.objects.exclude(pk=client.centre_id).exists():
        return ""
    return reverse("registry:transfer", args=[client.external_id])
