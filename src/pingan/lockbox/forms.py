"""Forms of the lockbox screens."""

from django import forms
from django.utils.translation import gettext_lazy as _


class IssueForm(forms.Form):
    client_code = forms.CharField(label=_("Client code"), max_length=40)


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class GeofenceForm(forms.Form):
    centre = forms.CharField(
        label=_("Centre of the home area (latitude,longitude)"),
        max_length=60,
        help_text=_("e.g. 22.5431,114.0579"),
    )
    radius_m = forms.IntegerField(label=_("Radius (metres)"), min_value=50, max_value=50000)


class SettingsForm(forms.Form):
    sms_hour = forms.IntegerField(
        label=_("Hour the day's code is sent (0–23)"), min_value=0, max_value=23
    )
    location_retention_days = forms.IntegerField(
        label=_("Days raw box locations are kept (0: none)"), min_value=0, max_value=365
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
