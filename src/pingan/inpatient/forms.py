"""Forms of the detox unit's screens: they only parse input; the rules live in `rules`
and the actions, which refuse bad values with their own messages."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.registry.models import Sex

from . import rules
from .models import (
    AmountBand,
    Bed,
    BedState,
    CareKind,
    Drug,
    PaymentMethod,
    RoomType,
    Route,
    Stay,
)


def _admittable_beds():
    return (
        Bed.objects.filter(retired_on__isnull=True, state__in=[BedState.FREE, BedState.RESERVED])
        .exclude(pk__in=Stay.objects.filter(discharged_at__isnull=True).values("bed_id"))
        .select_related("room")
        .order_by("room__name", "label")
    )


class BedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, bed: Bed) -> str:
        return f"{bed.room.name}-{bed.label} · {bed.room.get_room_type_display()}"


class AdmissionForm(forms.Form):
    return_card_code = forms.CharField(
        label=_("Return card code"),
        required=False,
        max_length=20,
        help_text=_("Only for someone coming back: links this stay to the earlier ones."),
    )
    alias = forms.CharField(label=_("Alias"), required=False, max_length=80)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, required=False)
    birth_year = forms.IntegerField(
        label=_("Birth year"), required=False, min_value=1900, max_value=2100
    )
    bed = BedChoiceField(label=_("Bed"), queryset=Bed.objects.none(), empty_label=None)
    drug = forms.ChoiceField(label=_("Drug of concern"), choices=Drug.choices)
    years_of_use = forms.IntegerField(label=_("Years of use"), min_value=0, max_value=80, initial=0)
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices)
    amount_band = forms.ChoiceField(label=_("Daily amount"), choices=AmountBand.choices)
    previous_treatments = forms.IntegerField(
        label=_("Previous treatments"), min_value=0, max_value=99, initial=0
    )
    planned_days = forms.IntegerField(label=_("Planned days"), initial=7)
    reason = forms.CharField(label=_("Reason for admission"), required=False, max_length=300)
    name = forms.CharField(label=_("Name"), required=False, max_length=100)
    national_id = forms.CharField(label=_("National ID"), required=False, max_length=30)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=30)

    basic = ("return_card_code", "alias", "sex", "birth_year", "bed")
    use = ("drug", "years_of_use", "route", "amount_band", "previous_treatments")
    stay = ("planned_days", "reason")
    identity = ("name", "national_id", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bed"].queryset = _admittable_beds()

    def clean(self):
        data = super().clean()
        if not (data.get("return_card_code") or "").strip():
            for name in ("alias", "sex", "birth_year"):
                if data.get(name) in (None, ""):
                    self.add_error(name, _("Needed for a first admission."))
        return data

    # Sections of the admission screen, in order.
    @property
    def basic_fields(self):
        return [self[name] for name in self.basic]

    @property
    def use_fields(self):
        return [self[name] for name in self.use]

    @property
    def stay_fields(self):
        return [self[name] for name in self.stay]

    @property
    def identity_fields(self):
        return [self[name] for name in self.identity]

    def history(self) -> rules.UseHistory:
        d = self.cleaned_data
        return rules.UseHistory(
            d["drug"], d["years_of_use"], d["route"], d["amount_band"], d["previous_treatments"]
        )


class MoveForm(forms.Form):
    bed = BedChoiceField(label=_("Move to bed"), queryset=Bed.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bed"].queryset = _admittable_beds()


class DischargeForm(forms.Form):
    note = forms.CharField(label=_("Discharge note"), required=False, max_length=300)


class MoneyForm(forms.Form):
    amount = forms.CharField(label=_("Amount (RMB)"), max_length=20)
    method = forms.ChoiceField(
        label=_("Paid by"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CASH,
        error_messages={
            "required": _("Choose how the money was paid."),
            "invalid_choice": _(
                "Choose how the money was paid: cash, WeChat Pay, Alipay or bank card."
            ),
        },
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ExtendForm(forms.Form):
    days = forms.CharField(label=_("More days"), max_length=4)


class TaperForm(forms.Form):
    start_on = forms.DateField(label=_("Start on"), initial=timezone.localdate)
    start_mg = forms.IntegerField(label=_("Start dose (mg)"), min_value=1, max_value=200)
    reduce_mg = forms.IntegerField(label=_("Reduce by (mg)"), min_value=0, max_value=200, initial=5)
    every_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=30, initial=1)


class DoseForm(forms.Form):
    given_mg = forms.IntegerField(label=_("Given (mg)"), min_value=0, max_value=200)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class CowsForm(forms.Form):
    """The 11 items of the Clinical Opiate Withdrawal Scale; the total is their sum."""

    LABELS = {
        "pulse": _("Resting pulse"),
        "sweating": _("Sweating"),
        "restlessness": _("Restlessness"),
        "pupils": _("Pupil size"),
        "aches": _("Bone or joint aches"),
        "runny_nose": _("Runny nose or tearing"),
        "gi_upset": _("GI upset"),
        "tremor": _("Tremor"),
        "yawning": _("Yawning"),
        "anxiety": _("Anxiety or irritability"),
        "gooseflesh": _("Gooseflesh skin"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, maximum in rules.COWS_ITEMS:
            self.fields[name] = forms.IntegerField(
                label=f"{self.LABELS[name]} (0–{maximum})",
                min_value=0,
                max_value=maximum,
                initial=0,
            )


class AdjunctForm(forms.Form):
    medication = forms.CharField(label=_("Medication"), max_length=80)
    dose = forms.CharField(label=_("Dose given"), max_length=40)


class CareForm(forms.Form):
    kind = forms.ChoiceField(label=_("Care given"), choices=CareKind.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Room name"), max_length=40)
    room_type = forms.ChoiceField(label=_("Room type"), choices=RoomType.choices)
    beds = forms.CharField(
        label=_("Bed labels"), max_length=200, help_text=_("Separated by commas, e.g. A, B, C")
    )


class TariffForm(forms.Form):
    name = forms.CharField(label=_("Version name"), max_length=80)
    effective_from = forms.DateField(label=_("Effective from"), initial=timezone.localdate)
