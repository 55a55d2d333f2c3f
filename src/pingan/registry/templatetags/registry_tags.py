"""Template helpers of the registry screens."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def optional_url(name: str, *args, **kwargs) -> str:
    """Like {% url %}, but "" when the name is not (yet) registered: the client page links
    to other apps' screens, which may not be installed in every deployment."""
    try:
        return reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch:
        return ""


@register.filter
def age_from(birth_year: int, year: int) -> int:
    return year - birth_year


@register.filter
def days_since(start, today):
    return None if start is None else (today - start).days
