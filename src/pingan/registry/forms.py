"""Forms of the registry screens. Validation rules live in rules.py/actions.py; the forms
collect input and show the messages those return."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.core.models import Centre

from .actions import IdentityInput
from .models import DischargeReason, DocumentType, Language, Purpose, Sex

DATE = {"type": "date"}


class EnrolForm(forms.Form):
    alias = forms.CharField(
        label=_("Alias"),
        max_length=80,
        help_text=_("The name the client wants to be called by at the centre; need not be real."),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, max_value=2100)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, required=False)
    enrolled_on = forms.DateField(
        label=_("Enrolled on"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    # The optional identity section: left empty, the client is enrolled anonymously.
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    document_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, required=False
    )
    national_id = forms.CharField(label=_("Document number"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm_duplicate = forms.BooleanField(
        label=_("I have checked: this is a different person, enrol anyway"), required=False
    )

    IDENTITY_FIELDS = ("name", "document_type", "national_id", "phone", "address")

    def identity_input(self) -> IdentityInput:
        data = self.cleaned_data
        return IdentityInput(
            name=data.get("name", ""),
            document_type=data.get("document_type") or DocumentType.PRC_ID,
            national_id=data.get("national_id", ""),
            phone=data.get("phone", ""),
            address=data.get("address", ""),
        )

    def basic_fields(self):
        return [self[n] for n in ("alias", "sex", "birth_year", "language", "enrolled_on")]

    def identity_fields(self):
        return [self[n] for n in self.IDENTITY_FIELDS]


class IdentityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    document_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices)
    national_id = forms.CharField(label=_("Document number"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm_duplicate = forms.BooleanField(
        label=_("I have checked: this is a different person, save anyway"), required=False
    )

    def identity_input(self) -> IdentityInput:
        d = self.cleaned_data
        return IdentityInput(
            name=d["name"],
            document_type=d["document_type"],
            national_id=d["national_id"],
            phone=d["phone"],
            address=d["address"],
        )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    given_on = forms.DateField(
        label=_("Given on"), initial=timezone.localdate, widget=forms.DateInput(attrs=DATE)
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RevokeForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    revoked_on = forms.DateField(
        label=_("Revoked on"), initial=timezone.localdate, widget=forms.DateInput(attrs=DATE)
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class DischargeForm(forms.Form):
    on = forms.DateField(
        label=_("Discharged on"), initial=timezone.localdate, widget=forms.DateInput(attrs=DATE)
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=DischargeReason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ReEnrolForm(forms.Form):
    on = forms.DateField(
        label=_("Enrolled on"), initial=timezone.localdate, widget=forms.DateInput(attrs=DATE)
    )


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("Photo (JPEG or PNG, at most 2 MB)"))


class EraseForm(forms.Form):
    reason = forms.CharField(label=_("Why is the identity erased?"), max_length=200)


class TransferForm(forms.Form):
    """A transfer to another centre of the region; `centres` are the ones to choose from."""

    to_centre = forms.ModelChoiceField(
        label=_("Transfer to centre"), queryset=Centre.objects.none()
    )
    consent_on = forms.DateField(
        label=_("Consent recorded on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs=DATE),
    )
    consent = forms.BooleanField(
        label=_("The client consents to the transfer and to their record going to that centre"),
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the transfer"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, centres=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_centre"].queryset = (
            centres if centres is not None else Centre.objects.none()
        )
        self.fields["to_centre"].label_from_instance = lambda c: f"{c.name} ({c.code})"

    def consent_given_on(self):
        """The consent day when the box is ticked; None (no consent) otherwise."""
        data = self.cleaned_data
        return data["consent_on"] if data.get("consent") else None
