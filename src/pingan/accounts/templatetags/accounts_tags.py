"""Small template helpers of the accounts screens."""

from datetime import timedelta

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def minutes(delta: timedelta | None) -> int:
    """A cool-off period in whole minutes (rounded up), for the locked-out page."""
    if not delta:
        return 0
    return int(-(-delta.total_seconds() // 60))


@register.filter
def role_label(name: str) -> str:
    """The role's name in the user's language (settings.PINGAN_ROLES is the one list)."""
    return str(settings.PINGAN_ROLES.get(name, ""))
