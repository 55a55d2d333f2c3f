"""Forms of the sign-in, profile and staff screens."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from .roles import ROLES


def role_choices() -> list[tuple[str, str]]:
    return [(r, settings.PINGAN_ROLES.get(r, r)) for r in ROLES]


class CodeForm(forms.Form):
    """A 6-digit code from the authenticator app."""

    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return code


class EnrolmentCodeForm(forms.Form):
    """The one-time code the centre manager gave, to set up a required authenticator."""

    enrolment_code = forms.CharField(
        label=_("Enrolment code from the centre manager"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
    )


class TotpStartForm(forms.Form):
    """Setting up or replacing the authenticator on the profile: the password again, and
    the current code when there is a device to replace. A session left open on a shared
    computer is not enough."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Current 6-digit code"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, needs_code: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.needs_code = needs_code
        if not needs_code:
            del self.fields["code"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return code


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)


class StaffCreateForm(BaseUserCreationForm):
    """Username, role, language and an initial password checked by AUTH_PASSWORD_VALIDATORS."""

    role = forms.ChoiceField(label=_("Role"), choices=role_choices)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    class Meta:
        model = User
        fields = ("username",)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if username.lower() == "new":
            raise forms.ValidationError(_("This username is reserved."))
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("A staff account with this username already exists."))
        return username
