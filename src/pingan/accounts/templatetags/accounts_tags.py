"""Small template helpers of the accounts screens."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def role_label(name: str) -> str:
    """The role's name in the user's language (settings.PINGAN_ROLES is the one list)."""
    return str(settings.PINGAN_ROLES.get(name, ""))


@register.simple_tag(takes_context=True)
def allowed_url(context, name: str, *args, **kwargs) -> str:
    """`{% allowed_url "takehome:standards" as url %}{% if url %}<a href="{{ url }}">…`:
    like {% url %}, but "" when the signed-in user may not open the page."""
    from pingan.accounts.reach import url_if_allowed

    return url_if_allowed(context.get("user"), name, *args, **kwargs)
