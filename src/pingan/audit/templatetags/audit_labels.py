"""`{{ entry.action|action_label }}`: an action code as words in the reader's language."""

from django import template

from pingan.audit.labels import label

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return label(code)
