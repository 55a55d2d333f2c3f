"""`{{ dose.drug|drug_name }}`: the drug and form names stored on doses and products, in the
reader's language.

They are stored as entered (the dispensing log keeps what was dispensed, and the defaults
are English); the common names of methadone are translated on screen, any other name is
shown as written."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

NAMES = {
    "methadone hydrochloride": _("methadone hydrochloride"),
    "methadone hydrochloride oral solution": _("methadone hydrochloride oral solution"),
    "methadone oral solution": _("methadone oral solution"),
    "methadone": _("methadone"),
    "oral solution": _("oral solution"),
}


@register.filter
def drug_name(name: str) -> str:
    found = NAMES.get((name or "").strip().casefold())
    return str(found) if found is not None else name
