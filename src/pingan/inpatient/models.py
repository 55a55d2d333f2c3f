"""The detox unit: rooms and beds, anonymous people and their stays, the tariff that
prices a day, the cash ledger of each stay, taper orders and the care delivered.

A person may stay anonymous (alias, sex, birth year and a return card code); identity,
when given, lives only in the registry's encrypted vault (docs/confidentiality.md and docs/inpatient.md).
Constraints that protect money and beds live here, in the database.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import Centre, TrackedModel
from pingan.registry.models import Sex


class RoomType(models.TextChoices):
    PRIVATE = "private", _("Private room")
    SHARED = "shared", _("Shared room")


class Drug(models.TextChoices):
    HEROIN = "heroin", _("Heroin")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine")
    OTHER_OPIOID = "other_opioid", _("Other opioid (tramadol, meperidine)")
    OTHER = "other", _("Other")


class Route(models.TextChoices):
    SMOKED = "smoked", _("Smoked or inhaled")
    INJECTED = "injected", _("Injected")
    ORAL = "oral", _("Oral")


class AmountBand(models.TextChoices):
    LOW = "low", _("Low (under 0.5 g a day)")
    MEDIUM = "medium", _("Medium (0.5–1 g a day)")
    HIGH = "high", _("High (over 1 g a day)")


class BedState(models.TextChoices):
    FREE = "free", _("Free")
    RESERVED = "reserved", _("Reserved")
    CLEANING = "cleaning", _("Cleaning")


class Room(TrackedModel):
    # The centre the record belongs to. Code that knows the centre (a view's current centre,
    # an import, the synthetic region) sets it; the default is the installation's centre,
    # for the single-centre code paths that predate the region.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        default=Centre.current,
        related_name="+",
        verbose_name=_("centre"),
    )
    name = models.CharField(_("room name"), max_length=40)
    room_type = models.CharField(_("room type"), max_length=10, choices=RoomType.choices)

    class Meta:
        verbose_name = _("room")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "name"], name="room_name_once_per_centre"),
            models.CheckConstraint(
                condition=Q(room_type__in=RoomType.values), name="room_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Bed(TrackedModel):
    """A bed's own state is free, reserved or cleaning; "occupied" is never stored — it is
    derived from an open stay, so the board cannot disagree with the stays."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(_("label"), max_length=20)
    state = models.CharField(
        _("state"), max_length=10, choices=BedState.choices, default=BedState.FREE
    )
    in_service_from = models.DateField(_("in service from"))
    retired_on = models.DateField(_("retired on"), null=True, blank=True)

    class Meta:
        verbose_name = _("bed")
        ordering = ["room__name", "label"]
        constraints = [
            models.UniqueConstraint(fields=["room", "label"], name="bed_label_unique_in_room"),
            models.CheckConstraint(condition=Q(state__in=BedState.values), name="bed_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.room.name}-{self.label}"


class InpatientPerson(TrackedModel):
    """Someone who stays in the unit. Not necessarily an MMT client: the link to a registry
    client exists only when identity was given or the person stepped down to MMT."""

    alias = models.CharField(_("alias"), max_length=80)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    return_card_code = models.CharField(_("return card code"), max_length=12, unique=True)
    client = models.ForeignKey(
        "registry.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inpatient_persons",
    )

    class Meta:
        verbose_name = _("inpatient")
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900) & Q(birth_year__lte=2100),
                name="inpatient_birth_year_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.return_card_code} ({self.alias})"


class TariffVersion(TrackedModel):
    """One version of the price algorithm. Editable while a draft; published versions are
    frozen, and a version used by a stay can never change (the stay keeps its price)."""

    name = models.CharField(_("version name"), max_length=80)
    effective_from = models.DateField(_("effective from"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Points per answer of the use history; see rules.DEFAULT_POINTS for the shape.
    severity_points = models.JSONField(_("severity points"))
    advertised_psych_reviews_per_week = models.PositiveSmallIntegerField(
        _("psychiatric reviews advertised per week"), default=2
    )
    advertised_sessions_per_week = models.PositiveSmallIntegerField(
        _("behavioural sessions advertised per week"), default=3
    )

    class Meta:
        verbose_name = _("tariff version")
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["effective_from"],
                condition=Q(published_at__isnull=False),
                name="tariff_one_published_per_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.effective_from})"


class TariffRate(models.Model):
    tariff = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="rates")
    room_type = models.CharField(_("room type"), max_length=10, choices=RoomType.choices)
    drug = models.CharField(_("drug type"), max_length=20, choices=Drug.choices)
    day_price = models.DecimalField(_("price per day"), max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "room_type", "drug"], name="tariff_rate_one_per_cell"
            ),
            models.CheckConstraint(condition=Q(day_price__gt=0), name="tariff_rate_positive"),
        ]


class SeverityBand(models.Model):
    """From `min_score` up to the next band: the day price is multiplied, then surcharged."""

    tariff = models.ForeignKey(TariffVersion, on_delete=models.CASCADE, related_name="bands")
    min_score = models.PositiveSmallIntegerField(_("from score"))
    label = models.CharField(_("label"), max_length=40)
    multiplier = models.DecimalField(_("multiplier"), max_digits=5, decimal_places=3)
    surcharge = models.DecimalField(_("surcharge per day"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["min_score"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "min_score"], name="severity_band_unique"),
            models.CheckConstraint(condition=Q(multiplier__gt=0), name="severity_multiplier_pos"),
            models.CheckConstraint(condition=Q(surcharge__gte=0), name="severity_surcharge_pos"),
        ]


class Stay(TrackedModel):
    """One admission. The tariff version, severity score and day price are frozen at
    admission, so a later tariff never changes what this person was quoted."""

    person = models.ForeignKey(InpatientPerson, on_delete=models.PROTECT, related_name="stays")
    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="stays")
    admitted_at = models.DateTimeField(_("admitted at"))
    admitted_on = models.DateField(_("admitted on"))
    planned_days = models.PositiveIntegerField(_("planned days"))
    discharged_at = models.DateTimeField(_("discharged at"), null=True, blank=True)
    discharged_on = models.DateField(_("discharge date"), null=True, blank=True)
    discharge_note = models.CharField(_("notes at discharge"), max_length=300, blank=True)
    reason = models.CharField(_("reason for admission"), max_length=300, blank=True)
    drug = models.CharField(_("drug of concern"), max_length=20, choices=Drug.choices)
    years_of_use = models.PositiveSmallIntegerField(_("years of use"))
    route = models.CharField(_("route"), max_length=10, choices=Route.choices)
    amount_band = models.CharField(_("daily amount"), max_length=10, choices=AmountBand.choices)
    previous_treatments = models.PositiveSmallIntegerField(_("previous treatments"))
    severity_score = models.PositiveSmallIntegerField(_("severity score"))
    tariff = models.ForeignKey(TariffVersion, on_delete=models.PROTECT, related_name="stays")
    price_per_day = models.DecimalField(_("price per day"), max_digits=10, decimal_places=2)
    readmission_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referred_client = models.ForeignKey(
        "registry.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stay")
        ordering = ["-admitted_at"]
        constraints = [
            # Double booking is refused by the database itself: one open stay per bed…
            models.UniqueConstraint(
                fields=["bed"],
                condition=Q(discharged_at__isnull=True),
                name="stay_one_open_per_bed",
            ),
            # …and one open stay per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(discharged_at__isnull=True),
                name="stay_one_open_per_person",
            ),
            models.CheckConstraint(condition=Q(planned_days__gt=0), name="stay_planned_days_pos"),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True)
                | Q(discharged_at__gte=models.F("admitted_at")),
                name="stay_discharge_after_admission",
            ),
            models.CheckConstraint(condition=Q(price_per_day__gte=0), name="stay_price_pos"),
        ]
        indexes = [models.Index(fields=["admitted_on"]), models.Index(fields=["discharged_on"])]

    def __str__(self) -> str:
        return f"{self.person.return_card_code} {self.admitted_on}"

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None


class BedMove(TrackedModel):
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="moves")
    from_bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="+")
    to_bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    CREDIT = "credit", _("Credit for unused days")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class PaymentMethod(models.TextChoices):
    """How money changed hands. Recorded for the receipt and the books, never processed:
    the unit takes the payment on its own terminal or QR code."""

    CASH = "cash", _("Cash")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    BANK_CARD = "bank_card", _("Bank card")


class LedgerEntry(TrackedModel):
    """Append-only money record of a stay; amounts are always positive, the kind says which
    way they count (see queries.ledger for the balance)."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    days = models.IntegerField(_("days"), null=True, blank=True)
    at = models.DateTimeField(_("at"))
    receipt_number = models.CharField(
        _("receipt number"), max_length=20, null=True, blank=True, unique=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Payments and refunds only; charges and credits move no money.
    payment_method = models.CharField(
        _("payment method"), max_length=10, choices=PaymentMethod.choices, blank=True
    )

    class Meta:
        verbose_name = _("ledger entry")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledger_kind_valid"
            ),
            # Only money moved has a method ("" on rows loaded in bulk without one).
            models.CheckConstraint(
                condition=Q(payment_method="")
                | (
                    Q(kind__in=[EntryKind.PAYMENT, EntryKind.REFUND])
                    & Q(payment_method__in=PaymentMethod.values)
                ),
                name="ledger_payment_method_valid",
            ),
        ]


class ReceiptSequence(models.Model):
    """The last receipt number issued per year; locked while the next one is taken."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class TaperOrder(TrackedModel):
    """Methadone from `start_mg` on `start_on`, reduced by `reduce_mg` every `every_days`
    days, never below zero. A new order supersedes the previous one."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="taper_orders")
    start_on = models.DateField(_("start on"))
    start_mg = models.PositiveSmallIntegerField(_("start dose (mg)"))
    reduce_mg = models.PositiveSmallIntegerField(_("reduce by (mg)"))
    every_days = models.PositiveSmallIntegerField(_("every (days)"), default=1)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(start_mg__gt=0), name="taper_start_pos"),
            models.CheckConstraint(condition=Q(every_days__gt=0), name="taper_every_pos"),
        ]


class InpatientDose(TrackedModel):
    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="doses")
    date = models.DateField(_("date"))
    planned_mg = models.PositiveSmallIntegerField(_("planned (mg)"))
    given_mg = models.PositiveSmallIntegerField(_("given (mg)"))
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["stay", "date"], name="inpatient_dose_one_per_day")
        ]


class CowsScore(TrackedModel):
    """Clinical Opiate Withdrawal Scale: 11 items summed to 0–48."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="cows")
    at = models.DateTimeField(_("at"))
    items = models.JSONField(_("items"))
    total = models.PositiveSmallIntegerField(_("total"))
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at"]
        constraints = [models.CheckConstraint(condition=Q(total__lte=48), name="cows_total_max")]


class AdjunctMedication(TrackedModel):
    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="adjuncts")
    at = models.DateTimeField(_("at"))
    medication = models.CharField(_("medication"), max_length=80)
    dose = models.CharField(_("dose"), max_length=40)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at"]


class CareKind(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment")
    PSYCHIATRIC_REVIEW = "psychiatric_review", _("Psychiatric review")
    COUNSELLING = "counselling", _("Counselling")
    BEHAVIOURAL_SESSION = "behavioural_session", _("Behavioural session")
    NURSING = "nursing", _("Nursing care")


class CareEvent(TrackedModel):
    """Care delivered to a stay by one clinician: the unit's fee-for-service pay and the
    "delivered vs advertised" view both read it."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="care")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CareKind.choices)
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CareKind.values), name="care_kind_valid")
        ]
