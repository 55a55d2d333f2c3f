"""Template filters for numbers people read: `{% load numbers %}` then
`{{ amount|yuan }}` (¥1,234.50), `{{ share|percent }}` (23.0 %), `{{ n|count }}` (1),
`{{ amount|capital_yuan }}` (壹仟贰佰叁拾肆元伍角整). See `pingan.core.numbers`."""

from __future__ import annotations

from django import template

from pingan.core import numbers

register = template.Library()


@register.filter
def yuan(value) -> str:
    return numbers.yuan(value)


@register.filter
def percent(value, places: int = 1) -> str:
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 1
    return numbers.percent(value, places)


@register.filter
def count(value) -> str:
    return numbers.count(value)


@register.filter
def capital_yuan(value) -> str:
    try:
        return numbers.capital_yuan(value)
    except ValueError:
        return ""
