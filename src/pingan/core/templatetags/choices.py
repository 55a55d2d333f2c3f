"""`{{ value|choice_label:"app.Model.field" }}`: a stored choice value by its label in the
reader's language, for screens that hold the bare value (a dict keyed by choice, a JSON
setting) rather than the model instance whose get_FOO_display would say it."""

from django import template
from django.apps import apps

register = template.Library()


@register.filter
def choice_label(value, field_path: str) -> str:
    """The label of `value` among the choices of app.Model.field; the value itself when it
    is not one of them (nothing is hidden)."""
    app_label, model_name, field_name = field_path.split(".")
    field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    return str(dict(field.flatchoices).get(value, value))
