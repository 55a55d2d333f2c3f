"""Forms of the labs screens: input checking only; the rules live in rules/actions."""

from __future__ import annotations

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pingan.core import clock

from .models import Analyte, Result, TestKind

RESULT_CHOICES = [("", _("not tested")), *Result.choices]
FIELD_PREFIX = "a_"


def date_input() -> forms.DateInput:
    """A browser date picker: its value must be ISO (YYYY-MM-DD) whatever the language, or
    the browser shows it empty (Chinese formats dates as YYYY/MM/DD)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# The headings the entry form groups the analytes under (every analyte in exactly one, in
# `Analyte` order): what counts against a client sits apart from the treatment itself.
ANALYTE_GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (
        _("Opioids"),
        (
            Analyte.OPIATES,
            Analyte.MORPHINE,
            Analyte.FENTANYL,
            Analyte.TRAMADOL,
            Analyte.BUPRENORPHINE,
        ),
    ),
    (_("Methadone and its metabolite"), (Analyte.METHADONE, Analyte.EDDP)),
    (
        _("Other drugs"),
        (Analyte.BENZODIAZEPINES, Analyte.AMPHETAMINES, Analyte.METHAMPHETAMINE, Analyte.KETAMINE),
    ),
)


def analyte_field(analyte: str) -> str:
    return f"{FIELD_PREFIX}{analyte}"


class UrineSampleForm(forms.Form):
    """One sample: a result per analyte tested (untested analytes left blank)."""

    collected_on = forms.DateField(label=_("Collected on"), widget=date_input())
    observed = forms.BooleanField(label=_("Collection observed"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collected_on"].initial = clock.today()
        for value, label in Analyte.choices:
            self.fields[analyte_field(value)] = forms.ChoiceField(
                label=label, choices=RESULT_CHOICES, required=False
            )

    def analyte_groups(self):
        """(heading, bound fields) per group of `ANALYTE_GROUPS`, for the entry form."""
        return [(label, [self[analyte_field(a)] for a in group]) for label, group in ANALYTE_GROUPS]

    def clean(self):
        data = super().clean()
        # A result for an analyte the form does not offer (an old page, a hand-made post)
        # refuses the whole sample rather than storing the rest without it.
        unknown = sorted(
            key[len(FIELD_PREFIX) :]
            for key in self.data
            if key.startswith(FIELD_PREFIX) and key not in self.fields and self.data.get(key)
        )
        for name in unknown:
            self.add_error(None, _("Unknown analyte: %(name)s") % {"name": name[:40]})
        if unknown:
            return data
        results = {a: data.get(analyte_field(a)) for a in Analyte.values}
        data["results"] = {a: r for a, r in results.items() if r}
        if not data["results"]:
            raise forms.ValidationError(_("Give at least one analyte result."))
        day = data.get("collected_on")
        if day and day > clock.today():
            self.add_error("collected_on", _("The date cannot be in the future."))
        return data


class InfectionTestForm(forms.Form):
    tested_on = forms.DateField(label=_("Tested on"), widget=date_input())
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
