"""`{{ check.name|check_label }}`: a take-home check's name as words."""

from django import template

from ..check_labels import check_label as _check_label

register = template.Library()


@register.filter
def check_label(name: str) -> str:
    return _check_label(name or "")
