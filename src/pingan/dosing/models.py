"""Prescriptions, tapers, the daily dose record, holds and the methadone stock ledger."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import Centre, TrackedModel
from pingan.registry.models import Client

from .limits import (
    DEFAULT_LIMITS,
    LIMIT_FIELDS,
    MAX_MG,
    MIN_MG,
    QTC_MAX_MS,
    QTC_MIN_MS,
    DoseLimits,
)


class Prescription(TrackedModel):
    """The daily dose a clinician ordered. Exactly one is in force per client: a change
    supersedes the previous one (kept for history) and carries its own reason."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="prescriptions")
    mg = models.PositiveSmallIntegerField(_("daily dose (mg)"))
    start_on = models.DateField(_("from"))
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    induction = models.BooleanField(_("induction"), default=False)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # A split dose: the day's dose given in two parts, the first of `first_part_mg`, the
    # second of the rest, observed too or (with `second_part_home`) taken home for the
    # evening. Still one dose a day; see `DosePart`.
    first_part_mg = models.PositiveSmallIntegerField(_("first part (mg)"), null=True, blank=True)
    second_part_home = models.BooleanField(_("second part taken home"), default=False)
    # The limits this prescription exceeds (codes from `prescribing`, comma-separated) and
    # the clinician's reason for exceeding them.
    overrides = models.CharField(_("limits overridden"), max_length=200, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("prescription")
        ordering = ["client", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(superseded_at__isnull=True),
                name="prescription_one_active_per_client",
            ),
            models.CheckConstraint(
                condition=Q(mg__gte=MIN_MG) & Q(mg__lte=MAX_MG), name="prescription_mg_range"
            ),
            models.CheckConstraint(
                condition=Q(first_part_mg__isnull=True)
                | (Q(first_part_mg__gte=1) & Q(first_part_mg__lt=models.F("mg"))),
                name="prescription_split_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(second_part_home=False) | Q(first_part_mg__isnull=False),
                name="prescription_home_part_needs_split",
            ),
            models.CheckConstraint(
                condition=Q(overrides="") | ~Q(override_reason=""),
                name="prescription_override_has_reason",
            ),
        ]

    @property
    def second_part_mg(self) -> int | None:
        return None if self.first_part_mg is None else self.mg - self.first_part_mg

    @property
    def override_codes(self) -> list[str]:
        return [c for c in self.overrides.split(",") if c]

    def __str__(self) -> str:
        return f"{self.client.code} {self.mg} mg from {self.start_on}"


class TaperPlan(TrackedModel):
    """Reduce the dose by `step_mg` every `every_days` days from `start_on` down to `to_mg`."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tapers")
    start_on = models.DateField(_("start on"))
    from_mg = models.PositiveSmallIntegerField(_("from (mg)"))
    to_mg = models.PositiveSmallIntegerField(_("down to (mg)"), default=0)
    step_mg = models.PositiveSmallIntegerField(_("step (mg)"))
    every_days = models.PositiveSmallIntegerField(_("every (days)"))
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    overrides = models.CharField(_("limits overridden"), max_length=200, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("taper plan")
        constraints = [
            models.CheckConstraint(
                condition=Q(overrides="") | ~Q(override_reason=""),
                name="taper_override_has_reason",
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(cancelled_at__isnull=True), name="taper_one_active"
            ),
            models.CheckConstraint(
                condition=Q(to_mg__lt=models.F("from_mg")), name="taper_goes_down"
            ),
            models.CheckConstraint(
                condition=Q(step_mg__gte=1) & Q(every_days__gte=1), name="taper_step_positive"
            ),
        ]


class DoseKind(models.TextChoices):
    CLINIC = "clinic", _("Observed in clinic")
    TAKEHOME = "takehome", _("Take-home bottle")
    GUEST = "guest", _("Dosed at another centre")


class Dose(TrackedModel):
    """One day's methadone for one client, with the controlled-drug dispensing-log fields.

    At most one per client per day, whatever its kind: the unique constraint is the rule,
    so two nurses pressing "dose" at once record one dose."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="doses")
    date = models.DateField(_("date"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=DoseKind.choices, default=DoseKind.CLINIC
    )
    mg = models.PositiveSmallIntegerField(_("dose (mg)"))
    drug = models.CharField(_("drug"), max_length=80, default="methadone hydrochloride")
    form = models.CharField(_("form"), max_length=40, default="oral solution")
    strength_mg_per_ml = models.DecimalField(_("strength (mg/ml)"), max_digits=6, decimal_places=2)
    volume_ml = models.DecimalField(_("volume (ml)"), max_digits=8, decimal_places=2)
    mg_in_clinic = models.PositiveSmallIntegerField(_("taken in clinic (mg)"), default=0)
    mg_taken_home = models.PositiveSmallIntegerField(_("taken home (mg)"), default=0)
    given_at = models.DateTimeField(_("date and time"))
    dispenser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispenser"),
    )
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # Given under the re-induction cap: the next dose stays capped until a new induction.
    capped = models.BooleanField(_("capped at the induction dose"), default=False)
    # Where the dose was given: the client's own centre, or the host of a guest slip. Set
    # by every dose the actions record; `save` fills it from the client when left empty,
    # and rows bulk-loaded without it stand for the client's centre.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("given at"),
    )

    class Meta:
        verbose_name = _("dose")
        constraints = [
            models.UniqueConstraint(fields=["client", "date"], name="dose_one_per_client_per_day"),
            models.CheckConstraint(
                condition=Q(mg__gte=MIN_MG) & Q(mg__lte=MAX_MG), name="dose_mg_range"
            ),
            models.CheckConstraint(
                condition=Q(mg=models.F("mg_in_clinic") + models.F("mg_taken_home")),
                name="dose_split_adds_up",
            ),
        ]
        indexes = [models.Index(fields=["date", "client"])]

    def save(self, *args, **kwargs):
        if self.centre_id is None and self.client_id is not None:
            self.centre_id = (
                Client.objects.filter(pk=self.client_id).values_list("centre_id", flat=True).first()
            )
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.client.code} {self.date} {self.mg} mg"


class GuestSlip(TrackedModel):
    """A client of one centre dosed for a few days (at most `region.slips.MAX_SLIP_DAYS`,
    checked by `region.slips`: a date sum in a CHECK would need a function that only
    Django's own SQLite connection has, and a backup opened elsewhere could not read it)
    at another centre of the installation.

    The home centre's clinician issues it with the dose in force; on its days the host
    doses the client (at most `dose_mg`) and the home centre does not. The dose is written
    on the client's one record, so the one-dose-a-day constraint holds across centres."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="guest_slips")
    # The host: a centre of the installation, or (`outside_host`, its code) a centre outside
    # it that reads the slip as a signed file; exactly one of the two.
    host = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("host centre"),
    )
    outside_host = models.CharField(
        _("host centre outside the installation"), max_length=20, blank=True
    )
    valid_from = models.DateField(_("first day"))
    valid_to = models.DateField(_("last day"))
    dose_mg = models.PositiveSmallIntegerField(_("dose (mg)"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("guest slip")
        ordering = ["client", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="guest_slip_days_in_order"
            ),
            models.CheckConstraint(
                condition=Q(dose_mg__gte=MIN_MG) & Q(dose_mg__lte=MAX_MG),
                name="guest_slip_mg_range",
            ),
            models.CheckConstraint(
                condition=(Q(host__isnull=False) & Q(outside_host=""))
                | (Q(host__isnull=True) & ~Q(outside_host="")),
                name="guest_slip_one_host",
            ),
        ]
        indexes = [models.Index(fields=["host", "valid_from"])]

    def covers(self, day) -> bool:
        return self.cancelled_at is None and self.valid_from <= day <= self.valid_to

    @property
    def host_name(self) -> str:
        return self.host.name if self.host_id else self.outside_host

    def __str__(self) -> str:
        host = self.host_id or self.outside_host
        return f"{self.client.code} at {host} {self.valid_from}–{self.valid_to}"


class DosePart(TrackedModel):
    """One part of a split dose as dispensed: each part is a line of the dispensing log and
    of the stock ledger, while the day keeps one `Dose` (the one-dose-a-day rule and the
    client's history count days, not parts). Unsplit doses have no parts."""

    dose = models.ForeignKey(Dose, on_delete=models.PROTECT, related_name="parts")
    part = models.PositiveSmallIntegerField(_("part"))
    mg = models.PositiveSmallIntegerField(_("dose (mg)"))
    volume_ml = models.DecimalField(_("volume (ml)"), max_digits=8, decimal_places=2)
    taken_home = models.BooleanField(_("taken home"), default=False)
    given_at = models.DateTimeField(_("date and time"))
    dispenser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("part of a split dose")
        ordering = ["dose", "part"]
        constraints = [
            models.UniqueConstraint(fields=["dose", "part"], name="dose_part_once"),
            models.CheckConstraint(condition=Q(part__in=[1, 2]), name="dose_part_one_or_two"),
            models.CheckConstraint(
                condition=Q(mg__gte=MIN_MG) & Q(mg__lte=MAX_MG), name="dose_part_mg_range"
            ),
        ]


class HoldKind(models.TextChoices):
    CLINICIAN_REVIEW = "clinician_review", _("Clinician review due")
    MISSED_DOSE_REVIEW = "missed_dose_review", _("Missed doses: clinician review")
    REINDUCTION = "reinduction", _("Missed doses: re-start induction")
    INTOXICATED = "intoxicated", _("Appears intoxicated")
    OTHER = "other", _("Other")


class Hold(TrackedModel):
    """Something that must be cleared before the next dose. Money is never a hold."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(_("kind"), max_length=30, choices=HoldKind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clear_note = models.CharField(_("how it was resolved"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("hold")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="hold_one_open_per_kind",
            )
        ]


class Product(models.Model):
    """A methadone oral solution kept in stock (strength in mg per ml)."""

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
    name = models.CharField(_("name"), max_length=120)
    # Copied onto every dose: the dispensing log names the drug and form as dispensed.
    drug = models.CharField(_("drug"), max_length=80, default="methadone hydrochloride")
    form = models.CharField(_("form"), max_length=40, default="oral solution")
    # One product of each strength per centre: each centre keeps its own stock.
    strength_mg_per_ml = models.DecimalField(_("strength (mg/ml)"), max_digits=6, decimal_places=2)
    active = models.BooleanField(_("in use"), default=True)
    # The ledger's running balance, kept on the row every line locks anyway: one UPDATE …
    # RETURNING moves it and hands the new balance to the line (see `stock.append_entry`),
    # instead of a lock, a read of the last line and an insert. Always equal to the last
    # line's `balance_ml`; bulk loaders that write lines directly call `stock.sync_balance`.
    balance_ml = models.DecimalField(
        _("balance (ml)"), max_digits=12, decimal_places=2, default=0, editable=False
    )

    class Meta:
        verbose_name = _("product")
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "strength_mg_per_ml"], name="product_strength_once_per_centre"
            ),
            models.CheckConstraint(
                condition=Q(balance_ml__gte=0), name="product_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength_mg_per_ml} mg/ml"


class StockEntryKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    DOSE = "dose", _("Dose")
    TAKEHOME = "takehome", _("Take-home bottle")
    RETURN = "return", _("Return")
    WASTE = "waste", _("Waste")
    CORRECTION = "correction", _("Correction")


class StockEntry(TrackedModel):
    """One line of the ledger. `balance_ml` is the running balance after this line: derived
    from the lines before it (written under a lock on the product) and never negative."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entries")
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=12, choices=StockEntryKind.choices)
    ml = models.DecimalField(_("change (ml)"), max_digits=10, decimal_places=2)
    balance_ml = models.DecimalField(_("balance (ml)"), max_digits=12, decimal_places=2)
    dose = models.ForeignKey(
        Dose, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_entries"
    )
    batch = models.CharField(_("batch"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stock entry")
        verbose_name_plural = _("stock entries")
        ordering = ["product", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_ml__gte=0), name="stock_balance_never_negative"
            ),
            models.CheckConstraint(condition=~Q(ml=0), name="stock_entry_nonzero"),
            models.CheckConstraint(
                condition=~Q(kind__in=["waste", "correction"]) | ~Q(reason=""),
                name="stock_waste_correction_have_reason",
            ),
        ]

    @property
    def mg(self):
        return self.ml * self.product.strength_mg_per_ml


class Reconciliation(TrackedModel):
    """End-of-day count: counted vs the ledger's balance, variance explained."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    on = models.DateField(_("date"))
    expected_ml = models.DecimalField(_("expected (ml)"), max_digits=12, decimal_places=2)
    counted_ml = models.DecimalField(_("counted (ml)"), max_digits=12, decimal_places=2)
    explanation = models.CharField(_("explanation of the variance"), max_length=500, blank=True)
    correction = models.OneToOneField(StockEntry, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("stock reconciliation")
        constraints = [
            models.UniqueConstraint(fields=["product", "on"], name="reconciliation_one_per_day"),
            models.CheckConstraint(
                condition=Q(counted_ml__gte=0), name="reconciliation_counted_nonneg"
            ),
        ]

    @property
    def variance_ml(self):
        return self.counted_ml - self.expected_ml


class DosingLimits(models.Model):
    """The centre's induction and titration limits (defaults in `limits.DoseLimits`, with
    their sources in docs/dosing-rules.md). No row means the defaults."""

    centre = models.OneToOneField(Centre, on_delete=models.CASCADE, related_name="dosing_limits")
    first_dose_max_mg = models.PositiveSmallIntegerField(
        _("first dose of an induction, at most (mg)"), default=DEFAULT_LIMITS.first_dose_max_mg
    )
    first_day_max_mg = models.PositiveSmallIntegerField(
        _("first day of an induction, at most (mg)"), default=DEFAULT_LIMITS.first_day_max_mg
    )
    early_days = models.PositiveSmallIntegerField(
        _("early titration lasts (days)"), default=DEFAULT_LIMITS.early_days
    )
    early_step_max_mg = models.PositiveSmallIntegerField(
        _("early titration: increase at most (mg)"), default=DEFAULT_LIMITS.early_step_max_mg
    )
    early_interval_days = models.PositiveSmallIntegerField(
        _("early titration: days between increases, at least"),
        default=DEFAULT_LIMITS.early_interval_days,
    )
    later_step_max_mg = models.PositiveSmallIntegerField(
        _("later: increase at most (mg)"), default=DEFAULT_LIMITS.later_step_max_mg
    )
    later_interval_days = models.PositiveSmallIntegerField(
        _("later: days between increases, at least"), default=DEFAULT_LIMITS.later_interval_days
    )
    ecg_dose_mg = models.PositiveSmallIntegerField(
        _("an ECG is needed from (mg a day)"), default=DEFAULT_LIMITS.ecg_dose_mg
    )
    ecg_valid_days = models.PositiveSmallIntegerField(
        _("an ECG is valid for (days)"), default=DEFAULT_LIMITS.ecg_valid_days
    )
    qtc_warn_ms = models.PositiveSmallIntegerField(
        _("QTc warning from (ms)"), default=DEFAULT_LIMITS.qtc_warn_ms
    )
    qtc_block_ms = models.PositiveSmallIntegerField(
        _("QTc: an increase needs an override from (ms)"), default=DEFAULT_LIMITS.qtc_block_ms
    )

    class Meta:
        verbose_name = _("dosing limits")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_dose_max_mg__gte=MIN_MG)
                & Q(first_day_max_mg__gte=models.F("first_dose_max_mg"))
                & Q(first_day_max_mg__lte=MAX_MG),
                name="limits_first_dose_within_first_day",
            ),
            models.CheckConstraint(
                condition=Q(early_step_max_mg__gte=1)
                & Q(later_step_max_mg__gte=1)
                & Q(early_interval_days__gte=1)
                & Q(later_interval_days__gte=1)
                & Q(ecg_valid_days__gte=1),
                name="limits_steps_positive",
            ),
            models.CheckConstraint(
                condition=Q(qtc_warn_ms__gte=QTC_MIN_MS)
                & Q(qtc_block_ms__gt=models.F("qtc_warn_ms"))
                & Q(qtc_block_ms__lte=QTC_MAX_MS),
                name="limits_qtc_order",
            ),
        ]

    def as_limits(self) -> DoseLimits:
        return DoseLimits(**{name: getattr(self, name) for name in LIMIT_FIELDS})


# The client's ECGs, other medicines and pregnancy live in their own module.
from .records import Ecg, OtherMedicine, Pregnancy  # noqa: E402, F401

# Guests from outside the installation ------------------------------------------------------


class OutsideCentreKey(TrackedModel):
    """A public key that a centre *outside* this installation published in its region's key
    list: a slip or a dose return signed with it is trusted as that centre's. A centre of
    this installation never has a row here (its documents do not travel as files)."""

    centre_code = models.CharField(_("centre code"), max_length=20)
    centre_name = models.CharField(_("centre name"), max_length=120)
    public_key_hex = models.CharField(_("public key"), max_length=64)
    key_id = models.CharField(_("key id"), max_length=16)
    added_at = models.DateTimeField(_("added at"))
    # Who added it: a staff login, or the operator of the command (`cli:<login>`).
    added_by = models.CharField(_("added by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("key of a centre outside the installation")
        ordering = ["centre_code", "added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre_code", "public_key_hex"], name="outside_key_once_per_centre"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_code} {self.key_id}"


class VisitingGuest(TrackedModel):
    """A client of a centre outside the installation, dosed here from a signed guest slip.

    The host keeps a local client record (`client`, coded `<home>:<client code>`, no name
    or identity) so that its queue, holds, missed-dose rules and `record_dose` work as for
    its own clients; this row holds the slip's terms (the days, at most `dose_mg`), which
    `rules.visit_block` enforces, and the signed file as it arrived."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="visits")
    slip_id = models.UUIDField(_("slip"), unique=True)  # a slip is accepted once
    home_centre = models.CharField(_("home centre"), max_length=20)
    home_client_code = models.CharField(_("client code at home"), max_length=40)
    valid_from = models.DateField(_("first day"))
    valid_to = models.DateField(_("last day"))
    dose_mg = models.PositiveSmallIntegerField(_("dose (mg)"))
    last_dose_on = models.DateField(_("latest dose at home"), null=True, blank=True)
    takehome = models.CharField(_("take-home at home"), max_length=200, blank=True)
    holds = models.CharField(_("holds at home"), max_length=300, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    signed_file = models.BinaryField(_("signed slip file"))
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("guest from outside the installation")
        ordering = ["client", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")),
                name="visiting_guest_days_in_order",
            ),
            models.CheckConstraint(
                condition=Q(dose_mg__gte=MIN_MG) & Q(dose_mg__lte=MAX_MG),
                name="visiting_guest_mg_range",
            ),
        ]

    @property
    def first_day(self):
        """The first day the host may dose: the slip's, or the day after the home's latest
        dose when that falls inside the slip (that day is dosed already)."""
        if self.last_dose_on is not None and self.last_dose_on >= self.valid_from:
            return self.last_dose_on + timedelta(days=1)
        return self.valid_from

    def covers(self, day) -> bool:
        return self.first_day <= day <= self.valid_to

    def __str__(self) -> str:
        return f"{self.home_centre}:{self.home_client_code} {self.valid_from}–{self.valid_to}"


class ReturnedDose(TrackedModel):
    """A dose a centre outside the installation gave a client of this one as a guest, read
    from its signed dose return. The day's `Dose` (kind guest, `centre` empty, no stock
    line: nothing left this installation's stock) keeps the one-dose-a-day rule and counts
    in the missed-dose rules and the indicators; this row says where it was given."""

    dose = models.OneToOneField(Dose, on_delete=models.PROTECT, related_name="returned")
    slip = models.ForeignKey(GuestSlip, on_delete=models.PROTECT, related_name="returned_doses")
    host_code = models.CharField(_("given at (outside the installation)"), max_length=20)
    return_id = models.UUIDField(_("dose return"))

    class Meta:
        verbose_name = _("dose given outside the installation")


class DoseReturnReceived(TrackedModel):
    """A dose return accepted at home, once each (a replay is refused), with its file."""

    return_id = models.UUIDField(_("dose return"), unique=True)
    slip = models.ForeignKey(GuestSlip, on_delete=models.PROTECT, related_name="returns")
    host_code = models.CharField(_("host centre"), max_length=20)
    signed_file = models.BinaryField(_("signed dose return file"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("dose return received")
