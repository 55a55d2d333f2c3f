"""Small template helpers of the accounts screens."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def role_label(name: str) -> str:
    """The role's name in the user's language (settings.PINGAN_ROLES is the one list)."""
    return str(settings.PINGAN_ROLES.get(name, ""))
