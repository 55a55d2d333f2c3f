"""Forms of the referral screens. They collect input; rules.py and actions.py say what is
wrong, so the officer's phone and the centre's desk show the same messages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core import clock
from pingan.registry.models import Sex

from .models import CareKind, CareOutcome, ContactMethod, Partner, ReferralStatus

DATE = {"type": "date"}


class PoliceReferralForm(forms.Form):
    """Every field optional at the form level: the rules give one specific message each."""

    referred_on = forms.DateField(
        label=_("Date of the referral"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
    )
    station = forms.CharField(label=_("Police station"), required=False, max_length=200)
    person_name = forms.CharField(
        label=_("Name or alias of the person"),
        required=False,
        max_length=200,
        help_text=_("As the person gave it to you; an alias is enough."),
    )
    person_contact = forms.CharField(
        label=_("Phone number of the person"),
        required=False,
        max_length=40,
        help_text=_("Optional. The centre uses it only to contact the person."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, centres=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("referred_on", clock.today())
        for name in ("person_name", "person_contact"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        # In a region the officer says which centre the person goes to; with one centre
        # there is nothing to choose.
        if len(centres) > 1:
            self.fields["centre"] = forms.ChoiceField(
                label=_("Centre"),
                choices=[("", "—")] + [(c.code, f"{c.code} {c.name}") for c in centres],
                error_messages={"required": _("Choose the centre the person is sent to.")},
            )


class ContactForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    reached = forms.BooleanField(label=_("The person was reached"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


OUTCOME_CHOICES = [
    (ReferralStatus.ENROLLED.value, ReferralStatus.ENROLLED.label),
    (ReferralStatus.DECLINED.value, ReferralStatus.DECLINED.label),
    (ReferralStatus.UNREACHABLE.value, ReferralStatus.UNREACHABLE.label),
]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES)
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))


class LinkForm(forms.Form):
    code = forms.CharField(label=_("Client code"), max_length=40)


class EnrolFromReferralForm(forms.Form):
    alias = forms.CharField(label=_("Alias"), max_length=80)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, max_value=2100)
    enrolled_on = forms.DateField(
        label=_("Enrolled on"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
    )
    copy_identity = forms.BooleanField(
        label=_("The person agrees: keep this name and phone in the identity vault"),
        required=False,
    )


class MergeForm(forms.Form):
    into = forms.UUIDField(widget=forms.HiddenInput)


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Organisation"), max_length=200)
    kind = forms.ChoiceField(label=_("Main kind of care"), choices=CareKind.choices)
    contact = forms.CharField(
        label=_("Contact at the organisation"), max_length=200, required=False
    )


class CareReferralForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of care"), choices=CareKind.choices)
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=Partner.objects.filter(active=True),
        to_field_name="external_id",
    )
    sent_on = forms.DateField(
        label=_("Sent on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    due_by = forms.DateField(
        label=_("Due by"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        help_text=_("Leave empty for the usual interval for this kind of care."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("sent_on", clock.today())


class CompleteCareForm(forms.Form):
    completed_on = forms.DateField(
        label=_("Completed on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CareOutcome.choices)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)
