"""`{{ entry.action|action_label }}`, `{{ entry.role|actor_role }}` and
`{% for label, value in entry|detail_fields %}`: the log's codes as words in the
reader's language."""

from django import template

from pingan.audit import labels

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return labels.label(code)


@register.filter
def actor_role(code: str) -> str:
    return labels.actor_role(code)


@register.filter
def detail_fields(entry) -> list[tuple[str, str]]:
    """Of an entry: its detail as (label, value) pairs."""
    return labels.detail_fields(entry.detail or {}, entry.target or "")


@register.filter
def target_label(entry) -> str:
    """Of an entry: what it was about, as words."""
    return labels.target_label(entry.target or "", entry.action)
