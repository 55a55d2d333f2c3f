"""Take-home doses: the bottle is the unit that covers one day's dose (docs/takehome-standard.md)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TrackedModel
from pingan.registry.models import Client


class BottleStatus(models.TextChoices):
    DISPENSED = "dispensed", _("Dispensed")
    RETURNED = "returned", _("Empty bottle returned")
    MISSING = "missing", _("Missing")


class TakeHomeBottle(TrackedModel):
    """One bottle for one future day, in one box. Its dose row (kind take-home) is what
    keeps the one-dose-a-day rule: the client cannot also be dosed in clinic that day."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="bottles")
    box = models.ForeignKey(
        "lockbox.Box", on_delete=models.PROTECT, null=True, blank=True, related_name="bottles"
    )
    day = models.DateField(_("for day"))
    mg = models.PositiveSmallIntegerField(_("dose (mg)"))
    dose = models.OneToOneField(
        "dosing.Dose", on_delete=models.PROTECT, related_name="bottle", null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=BottleStatus.choices, default=BottleStatus.DISPENSED
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "takehome.TakeHomeRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bottles",
    )

    class Meta:
        verbose_name = _("take-home bottle")
        constraints = [
            models.UniqueConstraint(fields=["client", "day"], name="bottle_one_per_client_per_day"),
            models.CheckConstraint(condition=Q(mg__gte=1) & Q(mg__lte=400), name="bottle_mg_range"),
        ]
        indexes = [models.Index(fields=["day", "box"])]

    def __str__(self) -> str:
        return f"{self.client.code} {self.day}"


class Profile(models.TextChoices):
    PINGAN = "pingan", _("Ping An (the study's model)")
    US_2024 = "us-2024", _("US 42 CFR 8.12(i), 2024")
    US_2001 = "us-2001", _("US schedule, 2001")


class Standard(TrackedModel):
    """One version of the agreed standard. It takes effect on the day of the later of its
    two signatures (CDC and police), or on `effective_from` when the draft names a later
    day: both sides sign the day with the thresholds. Until any version is signed, the
    shipped default (version 1) is in force so a fresh centre has a standard at all."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    profile = models.CharField(_("profile"), max_length=10, choices=Profile.choices)
    document = models.JSONField(_("thresholds"))
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drafted_at = models.DateTimeField(_("drafted at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    shipped_default = models.BooleanField(_("shipped default"), default=False)
    effective_on = models.DateField(_("in force from"), null=True, blank=True)
    # The day the drafter proposes; None: the day of the second signature.
    effective_from = models.DateField(_("to take effect from"), null=True, blank=True)

    class Meta:
        verbose_name = _("take-home standard")
        ordering = ["-version"]
        constraints = [
            # A version signed to take effect on a later day is not in force before it.
            models.CheckConstraint(
                condition=Q(effective_on__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_on__gte=F("effective_from")),
                name="standard_not_in_force_before_its_day",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.profile}"


class SignerRole(models.TextChoices):
    CDC = "cdc", _("Health department (CDC)")
    POLICE = "police", _("Police")


class StandardSignature(TrackedModel):
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("signed for"), max_length=10, choices=SignerRole.choices)
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        verbose_name = _("signature of the standard")
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "role"], name="standard_one_signature_per_role"
            )
        ]


class RequestKind(models.TextChoices):
    REGULAR = "regular", _("Regular take-home")
    CLOSED_DAY = "closed_day", _("Closed-day allowance")


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting the clinician")
    REFUSED = "refused", _("Refused by the clinician")
    APPROVED = "approved", _("Approved: awaiting the police record check")
    CHECK_FAILED = "check_failed", _("Record check did not pass")
    READY = "ready", _("Ready to dispense")
    DISPENSED = "dispensed", _("Dispensed")


class TakeHomeRequest(TrackedModel):
    """One request through the approval chain. The eligibility decision at the time of the
    request is kept as a snapshot: the clinician decides on what the record showed then."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="takehome_requests")
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices)
    days_requested = models.PositiveSmallIntegerField(_("days requested"))
    status = models.CharField(
        _("status"), max_length=14, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    eligibility = models.JSONField(_("eligibility when requested"))
    requested_on = models.DateField(_("requested on"))
    reason = models.CharField(_("why"), max_length=300, blank=True)
    needs_record_check = models.BooleanField(default=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_days = models.PositiveSmallIntegerField(null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=300, blank=True)
    dispensed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispensed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("take-home request")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_requested__gte=1) & Q(days_requested__lte=90),
                name="takehome_request_days_range",
            )
        ]


class RecordCheck(TrackedModel):
    """The police record check on one request; `disclosed` lists the identity fields the
    officer was shown (only those the client consented to)."""

    request = models.OneToOneField(
        TakeHomeRequest, on_delete=models.PROTECT, related_name="record_check"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="record_checks")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_on = models.DateField(_("checked on"))
    passed = models.BooleanField(_("passed"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    disclosed = models.JSONField(default=list)

    class Meta:
        verbose_name = _("police record check")
        indexes = [models.Index(fields=["client", "checked_on"])]


class Incident(TrackedModel):
    """A bottle not brought back empty: opened when it is marked missing, closed with a note."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="takehome_incidents")
    bottle = models.ForeignKey(
        TakeHomeBottle, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    opened_at = models.DateTimeField(_("opened at"))
    note = models.CharField(_("note"), max_length=500)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_note = models.CharField(_("how it was resolved"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("take-home incident")
        ordering = ["-opened_at"]


class Suspension(TrackedModel):
    """Take-home suspended for one client by a clinician, with the reason and the day it is
    to be reviewed. While it stands, no take-home is requested, approved or dispensed,
    whatever the record allows; it stands until a clinician lifts it, with a note (a review
    day that has passed is shown as overdue, it does not lift anything by itself)."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="takehome_suspensions"
    )
    reason = models.CharField(_("reason"), max_length=300)
    review_on = models.DateField(_("review by"))
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    suspended_at = models.DateTimeField(_("suspended at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_note = models.CharField(_("why it was lifted"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("take-home suspension")
        ordering = ["-suspended_at"]
        constraints = [
            # One standing suspension per client: a second is refused, the first is amended
            # by lifting it and suspending again.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(lifted_at__isnull=True),
                name="takehome_one_standing_suspension",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="takehome_suspension_reason"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True, lift_note="")
                | Q(lifted_at__isnull=False, lifted_by__isnull=False) & ~Q(lift_note=""),
                name="takehome_suspension_lifted_with_note",
            ),
        ]
