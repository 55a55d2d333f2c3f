"""The centre's services besides methadone: sessions (one-to-one or group, with
attendance per client) and naloxone kits with their follow-up."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import Centre, TrackedModel
from pingan.registry.models import Client


class ServiceKind(models.TextChoices):
    COUNSELLING = "counselling", _("Psychological counselling")
    PSYCHOEDUCATION = "psychoeducation", _("Psycho-education")
    VOCATIONAL = "vocational", _("Vocational training")
    SOCIAL = "social", _("Social or educational activity")
    HEALTH_EXAM = "health_exam", _("Health examination")
    MEAL = "meal", _("Meal")
    LAUNDRY = "laundry", _("Laundry")
    SHOWER = "shower", _("Shower")


class ServiceSession(TrackedModel):
    # The centre the record belongs to: the screen's current centre; the default (the
    # installation's centre) serves the single-centre code paths.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        default=Centre.current,
        related_name="+",
        verbose_name=_("centre"),
    )
    kind = models.CharField(_("service"), max_length=16, choices=ServiceKind.choices)
    date = models.DateField(_("date"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff"),
    )
    group = models.BooleanField(_("group session"), default=False)
    topic = models.CharField(_("topic"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service session")
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["kind", "date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.date}"


class Attendance(models.Model):
    session = models.ForeignKey(ServiceSession, on_delete=models.CASCADE, related_name="attendance")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="attendance")

    class Meta:
        verbose_name = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"], name="attendance_once_per_session"
            )
        ]


class KitUse(models.TextChoices):
    UNKNOWN = "unknown", _("Not yet known")
    YES = "yes", _("Used")
    NO = "no", _("Not used")


class NaloxoneKit(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="naloxone_kits")
    handed_on = models.DateField(_("handed out on"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handed out by"),
    )
    follow_up_on = models.DateField(_("ask about use on"), null=True, blank=True)
    used = models.CharField(_("used"), max_length=8, choices=KitUse.choices, default=KitUse.UNKNOWN)
    outcome_note = models.CharField(_("outcome"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("naloxone kit")
        ordering = ["-handed_on", "-created_at"]
        indexes = [models.Index(fields=["handed_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_on__isnull=True) | Q(follow_up_on__gte=models.F("handed_on")),
                name="naloxone_follow_up_after_handout",
            ),
            models.CheckConstraint(
                condition=Q(used__in=["unknown", "yes", "no"]), name="naloxone_used_valid"
            ),
        ]


class OutreachKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Home visit")
    MESSAGE = "message", _("Message")


class OutreachOutcome(models.TextChoices):
    REACHED = "reached", _("Reached, will come back")
    REACHED_UNSURE = "reached_unsure", _("Reached, not sure to come back")
    NOT_REACHED = "not_reached", _("Not reached")
    DECLINED = "declined", _("Does not want to come back")


class Outreach(TrackedModel):
    """One attempt to reach a client who stopped coming (services/outreach.py)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="outreach")
    on = models.DateField(_("date"))
    kind = models.CharField(_("how"), max_length=10, choices=OutreachKind.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=OutreachOutcome.choices)
    next_step = models.CharField(_("next step"), max_length=200)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outreach")
        indexes = [models.Index(fields=["client", "-on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OutreachKind.values), name="outreach_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=OutreachOutcome.values), name="outreach_outcome_valid"
            ),
            models.CheckConstraint(condition=~Q(next_step=""), name="outreach_next_step"),
        ]


class OutreachSettings(models.Model):
    """The centre's drop-out worklist setting (one row, see `current()`)."""

    missed_days = models.PositiveSmallIntegerField(
        _("days missed before a client is on the drop-out worklist"), default=2
    )

    class Meta:
        verbose_name = _("outreach settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(missed_days__gte=1) & Q(missed_days__lte=60),
                name="outreach_missed_days_range",
            )
        ]

    @classmethod
    def current(cls) -> "OutreachSettings":
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls.objects.create()


class AppointmentKind(models.TextChoices):
    CLINICIAN_REVIEW = "review", _("Clinician review")
    URINE_TEST = "urine", _("Urine test")
    OTHER_TEST = "lab", _("Other lab test")
    COUNSELLING = "counselling", _("Counselling")


class AppointmentState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Appointment(TrackedModel):
    """A day set for a client to see the clinician, give a sample or talk with a
    counsellor, often agreed during outreach (docs/outreach.md). The nurse's queue shows it
    on its day (`appointments.on_day`)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    on = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=12, choices=AppointmentKind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=AppointmentState.choices, default="planned"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("appointment")
        ordering = ["on", "created_at"]
        indexes = [models.Index(fields=["on", "state"]), models.Index(fields=["client", "on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AppointmentKind.values), name="appointment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=AppointmentState.values), name="appointment_state_valid"
            ),
            # A planned appointment is open; a done or cancelled one says when and by whom.
            models.CheckConstraint(
                condition=(Q(state="planned") & Q(closed_at__isnull=True))
                | (~Q(state="planned") & Q(closed_at__isnull=False)),
                name="appointment_closed_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.on}"
