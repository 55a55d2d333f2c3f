"""Forms of the dosing screens: they only parse input; the rules live in actions."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from pingan.core import clock
from pingan.core.models import Centre

from .limits import LIMIT_FIELDS, MAX_MG, MIN_MG
from .models import DosingLimits, HoldKind, Product
from .safety_actions import MAX_MISSED_DAYS

OVERRIDE_HELP = _("Only when a limit is exceeded on purpose: recorded and shown with the dose.")


class PrescribeForm(forms.Form):
    mg = forms.IntegerField(label=_("Daily dose (mg)"), min_value=MIN_MG, max_value=MAX_MG)
    start_on = forms.DateField(label=_("From"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    induction = forms.BooleanField(label=_("Induction (re-)start"), required=False)
    first_part_mg = forms.IntegerField(
        label=_("Split dose: first part (mg)"), required=False, min_value=0, max_value=MAX_MG
    )
    second_part_mg = forms.IntegerField(
        label=_("Split dose: second part (mg)"), required=False, min_value=0, max_value=MAX_MG
    )
    second_part_home = forms.BooleanField(
        label=_("Second part taken home for the evening"), required=False
    )
    override_reason = forms.CharField(
        label=_("Reason to exceed a limit"), max_length=300, required=False, help_text=OVERRIDE_HELP
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        first, second = data.get("first_part_mg"), data.get("second_part_mg")
        if (first is None) != (second is None):
            raise forms.ValidationError(_("A split dose needs both parts."), code="split")
        return data

    @property
    def parts(self) -> tuple[int, int] | None:
        first = self.cleaned_data.get("first_part_mg")
        second = self.cleaned_data.get("second_part_mg")
        return None if first is None or second is None else (first, second)


class TaperForm(forms.Form):
    start_on = forms.DateField(label=_("Start on"), initial=timezone.localdate)
    from_mg = forms.IntegerField(label=_("From (mg)"), min_value=MIN_MG, max_value=MAX_MG)
    to_mg = forms.IntegerField(label=_("Down to (mg)"), min_value=0, max_value=MAX_MG, initial=0)
    step_mg = forms.IntegerField(label=_("Step (mg)"), min_value=1, max_value=MAX_MG, initial=5)
    every_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=365, initial=7)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    override_reason = forms.CharField(
        label=_("Reason to exceed a limit"), max_length=300, required=False, help_text=OVERRIDE_HELP
    )

    def clean(self):
        data = super().clean()
        if data.get("from_mg") is not None and data.get("to_mg") is not None:
            if data["to_mg"] >= data["from_mg"]:
                raise forms.ValidationError(_("The end dose must be below the start dose."))
        return data


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HoldKind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ClearHoldForm(forms.Form):
    note = forms.CharField(label=_("How it was resolved"), max_length=300)


def _products():
    return Product.objects.filter(active=True).order_by("pk")


def for_centre(form: forms.Form, centre_id: int) -> forms.Form:
    """The form's product choices narrowed to one centre's stock (a ledger is a centre's)."""
    form.fields["product"].queryset = _products().filter(centre_id=centre_id)
    return form


class ReceiptForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=_products(), empty_label=None)
    ml = forms.DecimalField(label=_("Amount (ml)"), min_value=0.01, decimal_places=2)
    batch = forms.CharField(label=_("Batch"), max_length=60)


class WasteForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=_products(), empty_label=None)
    ml = forms.DecimalField(label=_("Amount (ml)"), min_value=0.01, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CorrectionForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=_products(), empty_label=None)
    ml = forms.DecimalField(
        label=_("Change (ml, negative to reduce)"),
        decimal_places=2,
        help_text=_("Positive adds to the balance, negative takes away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_ml(self):
        if self.cleaned_data["ml"] == 0:
            raise forms.ValidationError(_("A correction cannot be zero."))
        return self.cleaned_data["ml"]


class ReconcileForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=_products(), empty_label=None)
    on = forms.DateField(label=_("Day"), initial=timezone.localdate)
    counted_ml = forms.DecimalField(label=_("Counted (ml)"), min_value=0, decimal_places=2)
    explanation = forms.CharField(
        label=_("Explanation of the variance"), max_length=500, required=False
    )
    post_correction = forms.BooleanField(
        label=_("Correct the ledger by the variance"), required=False
    )


class EcgForm(forms.Form):
    # No bounds here: the action refuses a QTc outside 300–700 ms with its own message.
    recorded_on = forms.DateField(label=_("Date of the ECG"), initial=clock.today)
    qtc_ms = forms.IntegerField(label=_("QTc (ms)"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MedicineForm(forms.Form):
    name = forms.CharField(label=_("Medicine"), max_length=120)
    started_on = forms.DateField(label=_("Started on"), initial=clock.today)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class StopMedicineForm(forms.Form):
    stopped_on = forms.DateField(label=_("Stopped on"), initial=clock.today)


class PregnancyForm(forms.Form):
    known_on = forms.DateField(label=_("Known since"), initial=clock.today)
    due_on = forms.DateField(label=_("Expected delivery"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class EndPregnancyForm(forms.Form):
    ended_on = forms.DateField(label=_("Ended on"), initial=clock.today)


class LimitsForm(forms.ModelForm):
    class Meta:
        model = DosingLimits
        fields = list(LIMIT_FIELDS)


def _centre_label(name: str):
    return capfirst(Centre._meta.get_field(name).verbose_name)


class MissedDaysForm(forms.Form):
    """The current centre's missed-dose thresholds, in whole days; their range and order are
    checked by `safety_actions.save_missed_dose_thresholds`."""

    review_after_missed_days = forms.IntegerField(
        label=_centre_label("review_after_missed_days"),
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_MISSED_DAYS}),
    )
    reinduction_after_missed_days = forms.IntegerField(
        label=_centre_label("reinduction_after_missed_days"),
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_MISSED_DAYS}),
    )


class GuestSlipForm(forms.Form):
    """A guest slip's host and days; the dose is the one in force when it is issued."""

    host = forms.ModelChoiceField(label=_("Host centre"), queryset=Centre.objects.none())
    valid_from = forms.DateField(label=_("First day"))
    valid_to = forms.DateField(label=_("Last day"))

    def __init__(self, *args, home_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = Centre.objects.exclude(pk=home_id).order_by("code")
