"""Forms of the labs screens: input checking only; the rules live in rules/actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core import clock

from .models import Analyte, Result, TestKind

RESULT_CHOICES = [("", _("not tested")), *Result.choices]


def analyte_field(analyte: str) -> str:
    return f"a_{analyte}"


class UrineSampleForm(forms.Form):
    """One sample: a result per analyte tested (untested analytes left blank)."""

    collected_on = forms.DateField(
        label=_("Collected on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    observed = forms.BooleanField(label=_("Collection observed"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collected_on"].initial = clock.today()
        for value, label in Analyte.choices:
            self.fields[analyte_field(value)] = forms.ChoiceField(
                label=label, choices=RESULT_CHOICES, required=False
            )

    def analyte_fields(self):
        return [self[analyte_field(a)] for a in Analyte.values]

    def clean(self):
        data = super().clean()
        results = {a: data.get(analyte_field(a)) for a in Analyte.values}
        data["results"] = {a: r for a, r in results.items() if r}
        if not data["results"]:
            raise forms.ValidationError(_("Give at least one analyte result."))
        day = data.get("collected_on")
        if day and day > clock.today():
            self.add_error("collected_on", _("The date cannot be in the future."))
        return data


class InfectionTestForm(forms.Form):
    tested_on = forms.DateField(
        label=_("Tested on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    test = forms.ChoiceField(label=_("Test"), choices=TestKind.choices)
    result = forms.ChoiceField(label=_("Result"), choices=Result.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tested_on"].initial = clock.today()

    def clean_tested_on(self):
        day = self.cleaned_data["tested_on"]
        if day > clock.today():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day
