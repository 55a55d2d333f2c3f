"""Forms of the service screens; validation with reasons lives in actions.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core import clock

from .models import KitUse, ServiceKind

DATE = {"type": "date"}


class SessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Service"), choices=ServiceKind.choices)
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    topic = forms.CharField(label=_("Topic"), max_length=200, required=False)
    group = forms.BooleanField(label=_("Group session"), required=False)
    clients = forms.CharField(
        label=_("Client codes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One or more client codes, separated by spaces, commas or new lines."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("on", clock.today())


class KitForm(forms.Form):
    code = forms.CharField(label=_("Client code"), max_length=40)
    handed_on = forms.DateField(
        label=_("Handed out on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    follow_up_on = forms.DateField(
        label=_("Ask about use on"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        help_text=_("Leave empty for 30 days later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("handed_on", clock.today())


class FollowUpForm(forms.Form):
    used = forms.ChoiceField(label=_("Was the kit used?"), choices=KitUse.choices)
    note = forms.CharField(label=_("Outcome"), max_length=300, required=False)
