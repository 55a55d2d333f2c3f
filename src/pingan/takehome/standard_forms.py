"""The standard's editor: a form with one row per tier, not a JSON text.

The drafter types numbers into fields; `StandardEditor` checks each field (a whole number, in
its range, the days at home no more than `standard.MAX_DAYS_AT_HOME`), each tier (none left
empty), the tiers together and the rest through `standard.parse` (tiers out of order, a
tier asking less than one allowing fewer days…), every message in the reader's language.
Only a document that passes all of it is built; the JSON is what is stored, never what is
typed.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from pingan.core import clock

from .changes import ADMINISTRATIVE_LABELS
from .describe import WEEKDAYS
from .models import Profile
from .standard import (
    ADMINISTRATIVE,
    CLOSED_MAX_DAYS,
    MAX_DAYS_AT_HOME,
    RECORD_CHECK_VALID_DAYS,
    TIER_LIMITS,
    StandardInvalid,
    parse,
)

MAX_TIERS = 10
# How far ahead a version may be dated: a year, the longest the two sides plan for.
LATEST_START_DAYS = 366

NUMBER_INVALID = _("Enter a whole number, in digits (for example 30).")


def _number(label) -> forms.IntegerField:
    """A whole number typed as text: the browser does not refuse letters in the user's
    stead, so the message is ours, in the user's language. Ranges are checked in `clean`."""
    return forms.IntegerField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5, "autocomplete": "off"}),
        error_messages={"invalid": NUMBER_INVALID},
    )


def _out_of_range(label, low: int, high: int) -> str:
    return _("%(field)s must be between %(low)d and %(high)d.") % {
        "field": label,
        "low": low,
        "high": high,
    }


class TierForm(forms.Form):
    days = _number(_("Days at home"))
    from_day = _number(_("From day of treatment"))
    adherence_window = _number(_("Attendance counted over (days)"))
    adherence_min = _number(_("Attendance at least (%)"))
    positive_free_days = _number(_("No positive urine sample in the last (days; 0: not checked)"))
    needs_one_negative_in_window = forms.BooleanField(
        label=_("At least one negative sample in that time"), required=False
    )
    min_negative_run = _number(_("Negative run at least (samples; 0: not checked)"))

    NUMBERS = tuple(TIER_LIMITS)

    def clean(self):
        data = super().clean()
        typed = [n for n in self.NUMBERS if data.get(n) is not None or n in self.errors]
        if not typed and not data.get("needs_one_negative_in_window"):
            raise forms.ValidationError(
                _("This tier is empty: fill in its numbers, or tick “Delete”."), code="empty"
            )
        for name in self.NUMBERS:
            if name in self.errors:
                continue
            value, label = data.get(name), self.fields[name].label
            low, high = TIER_LIMITS[name]
            if value is None:
                self.add_error(name, _("Fill this in (0 where it says “not checked”)."))
            elif name == "days" and value > MAX_DAYS_AT_HOME:
                self.add_error(
                    name,
                    _("At most %(max)d days at home: no standard may allow more.")
                    % {"max": MAX_DAYS_AT_HOME},
                )
            elif not low <= value <= high:
                self.add_error(name, _out_of_range(label, low, high))
        return data

    def tier(self) -> dict:
        data = self.cleaned_data
        return {
            "days": data["days"],
            "from_day": data["from_day"],
            "adherence_window": data["adherence_window"],
            "adherence_min": data["adherence_min"],
            "positive_free_days": data["positive_free_days"],
            "min_negative_run": data["min_negative_run"],
            "needs_one_negative_in_window": bool(data["needs_one_negative_in_window"]),
        }


class BaseTierFormSet(forms.BaseFormSet):
    """Every row is checked, the added ones too: a row left blank is an empty tier to fill
    in or remove, not something to skip in silence."""

    default_error_messages = {
        "missing_management_form": _(
            "The form arrived incomplete: open the editor again and enter the changes."
        ),
        "too_many_forms": _("At most %(num)d tiers."),
    }

    def _construct_form(self, i, **kwargs):
        kwargs["empty_permitted"] = False
        kwargs["use_required_attribute"] = False
        return super()._construct_form(i, **kwargs)

    def live(self) -> list[TierForm]:
        return [f for f in self.forms if not (self.can_delete and self._should_delete_form(f))]

    def clean(self):
        if any(self.errors):
            return
        if not self.live():
            raise forms.ValidationError(_("A standard needs at least one tier."), code="no_tier")


TierFormSet = forms.formset_factory(
    TierForm,
    formset=BaseTierFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_TIERS,
    validate_max=True,
    absolute_max=MAX_TIERS * 2,
)


class StandardForm(forms.Form):
    profile = forms.ChoiceField(label=_("Profile"), choices=Profile.choices)
    administrative = forms.MultipleChoiceField(
        label=_("Administrative checks (they decide “ready”, not the days)"),
        choices=[(name, ADMINISTRATIVE_LABELS[name]) for name in ADMINISTRATIVE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    record_check_valid_days = _number(_("A police record check counts for (days)"))
    to_confirm = forms.CharField(
        label=_("The clinician confirms (one criterion a line)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
    )
    closed_max_days = _number(_("Closed days: days at home at most"))
    closed_weekdays = forms.TypedMultipleChoiceField(
        label=_("Closed every"),
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    public_holidays = forms.BooleanField(
        label=_("Public holidays count as closed days"), required=False
    )
    closed_needs_police_check = forms.BooleanField(
        label=_("A closed-day take-home needs a passed police record check"), required=False
    )
    effective_from = forms.DateField(
        label=_("To take effect from (empty: the day of the second signature)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the day as YYYY-MM-DD, for example 2027-03-01.")},
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    RANGES = {
        "record_check_valid_days": RECORD_CHECK_VALID_DAYS,
        "closed_max_days": CLOSED_MAX_DAYS,
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        for name, (low, high) in self.RANGES.items():
            if name in self.errors:
                continue
            value = data.get(name)
            if value is None:
                self.add_error(name, _("Fill this in (0 where it says “not checked”)."))
            elif not low <= value <= high:
                self.add_error(name, _out_of_range(self.fields[name].label, low, high))
        return data

    def clean_effective_from(self) -> date | None:
        day = self.cleaned_data.get("effective_from")
        if day is None:
            return None
        today = clock.today()
        if day < today:
            raise forms.ValidationError(
                _("The day to take effect cannot be in the past."), code="past"
            )
        if day > today + timedelta(days=LATEST_START_DAYS):
            raise forms.ValidationError(_("Choose a day within a year from today."), code="too_far")
        return day


def _initial(document: dict, profile: str) -> dict:
    closed = document.get("closed_days", {})
    return {
        "profile": profile,
        "administrative": list(document.get("administrative", [])),
        "record_check_valid_days": document.get("record_check_valid_days", 365),
        "to_confirm": "\n".join(document.get("to_confirm", [])),
        "closed_max_days": closed.get("max_days", 0),
        "closed_weekdays": list(closed.get("weekdays", [])),
        "public_holidays": closed.get("public_holidays", True),
        "closed_needs_police_check": closed.get("needs_police_check", False),
    }


class StandardEditor:
    """The standard form and its tier rows, checked together. `problems` are the reasons
    `standard.parse` gives for a document whose fields are each fine (tiers out of order,
    contradictions), shown above the form."""

    def __init__(self, data=None, *, document: dict | None = None, profile: str = "pingan"):
        document = document or {}
        tiers = sorted(document.get("tiers", []), key=lambda t: (t["days"], t["from_day"]))
        self.form = StandardForm(data, initial=_initial(document, profile))
        self.tiers = TierFormSet(data, initial=tiers, prefix="tiers")
        self.problems: list[str] = []

    def is_valid(self) -> bool:
        fields_ok = self.form.is_valid()
        tiers_ok = self.tiers.is_valid()
        if not (fields_ok and tiers_ok):
            return False
        try:
            parse(self.profile, self.document())
        except StandardInvalid as error:
            self.problems = error.reasons
            return False
        return True

    def messages(self) -> list[str]:
        """Every reason the draft is refused, each naming its tier and field, for the list
        above the form (the same messages stand beside the fields)."""
        found = list(self.problems)
        found.extend(str(e) for e in self.tiers.non_form_errors())
        for n, tier in enumerate(self.tiers.forms, start=1):
            if self.tiers.can_delete and self.tiers._should_delete_form(tier):
                continue
            for name, errors in tier.errors.items():
                for error in errors:
                    if name == NON_FIELD_ERRORS:
                        found.append(_("Tier %(n)d: %(message)s") % {"n": n, "message": error})
                    else:
                        found.append(
                            _("Tier %(n)d, %(field)s: %(message)s")
                            % {"n": n, "field": tier.fields[name].label, "message": error}
                        )
        for name, errors in self.form.errors.items():
            for error in errors:
                if name == NON_FIELD_ERRORS:
                    found.append(error)
                else:
                    found.append(
                        _("%(field)s: %(message)s")
                        % {"field": self.form.fields[name].label, "message": error}
                    )
        return found

    @property
    def profile(self) -> str:
        return self.form.cleaned_data["profile"]

    @property
    def effective_from(self) -> date | None:
        return self.form.cleaned_data.get("effective_from")

    @property
    def note(self) -> str:
        return self.form.cleaned_data.get("note", "")

    def document(self) -> dict:
        """The document to store, from fields that each passed their checks."""
        data = self.form.cleaned_data
        tiers = sorted(
            (f.tier() for f in self.tiers.live()), key=lambda t: (t["days"], t["from_day"])
        )
        confirm = [line.strip() for line in data.get("to_confirm", "").splitlines()]
        return {
            "tiers": tiers,
            "administrative": [a for a in ADMINISTRATIVE if a in data["administrative"]],
            "record_check_valid_days": data["record_check_valid_days"],
            "to_confirm": [line for line in confirm if line],
            "closed_days": {
                "max_days": data["closed_max_days"],
                "weekdays": sorted(set(data["closed_weekdays"])),
                "public_holidays": bool(data["public_holidays"]),
                "needs_police_check": bool(data["closed_needs_police_check"]),
            },
        }

    def with_one_more_tier(self, data) -> StandardEditor:
        """The same editor with an empty tier row at the end, from the posted fields."""
        data = data.copy()
        total = f"{self.tiers.prefix}-TOTAL_FORMS"
        try:
            count = int(data.get(total, 0))
        except ValueError:
            count = 0
        data[total] = str(min(count + 1, MAX_TIERS))
        return StandardEditor(data)
