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
