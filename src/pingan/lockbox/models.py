"""Pin-locked take-home boxes (docs/lockbox-protocol.md).

The box secret is what the box and the server both derive the day's PIN from; it is
encrypted at rest and shown once, when the box is issued."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.models import Centre, TrackedModel
from pingan.registry.models import Client


class Box(TrackedModel):
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
    # Unique in the whole installation: a box names itself by its number to the event API.
    label = models.CharField(_("box number"), max_length=40, unique=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="boxes"
    )
    secret = EncryptedTextField(_("secret"))  # 40 hex characters (160 bits)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    retire_reason = models.CharField(_("reason for retiring"), max_length=200, blank=True)
    last_seq = models.BigIntegerField(default=-1)

    class Meta:
        verbose_name = _("lockbox")
        verbose_name_plural = _("lockboxes")
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(retired_on__isnull=True) & Q(client__isnull=False),
                name="box_one_active_per_client",
            )
        ]

    def __str__(self) -> str:
        return self.label


class LockboxSettings(models.Model):
    """The centre's lockbox and PIN-message settings (one row, see `current()`)."""

    sms_hour = models.PositiveSmallIntegerField(
        _("hour the day's code is sent"),
        default=7,
        help_text=_("0–23, in the centre's time zone"),
    )
    location_retention_days = models.PositiveSmallIntegerField(
        _("days raw box locations are kept"),
        default=0,
        help_text=_("0 keeps no coordinates at all, only inside or outside the home area"),
    )

    class Meta:
        verbose_name = _("lockbox settings")
        constraints = [
            models.CheckConstraint(condition=Q(sms_hour__lte=23), name="lockbox_sms_hour_range"),
            models.CheckConstraint(
                condition=Q(location_retention_days__lte=365), name="lockbox_retention_max_year"
            ),
        ]

    @classmethod
    def current(cls) -> "LockboxSettings":
        settings_row = cls.objects.order_by("pk").first()
        if settings_row is None:
            settings_row = cls.objects.create()
        return settings_row


class HomeGeofence(TrackedModel):
    """The client's home area: a centre point and a radius. The centre point is a home
    location, so it is encrypted at rest like the identity vault."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="home_geofence")
    centre = EncryptedTextField(_("centre (latitude,longitude)"))
    radius_m = models.PositiveIntegerField(_("radius (metres)"))

    class Meta:
        verbose_name = _("home area")
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_m__gte=50) & Q(radius_m__lte=50000), name="geofence_radius_range"
            )
        ]

    def point(self) -> tuple[float, float]:
        lat, lon = self.centre.split(",")
        return float(lat), float(lon)


class EventType(models.TextChoices):
    OPENED = "opened", _("Opened")
    PIN_FAILED = "pin_failed", _("Wrong code entered")
    LOCKED_OUT = "locked_out", _("Locked after wrong codes")
    TAMPER = "tamper", _("Tampering")
    LOCATION = "location", _("Location")
    BATTERY = "battery", _("Battery")


class BoxEvent(models.Model):
    """One event a box reported. Location arrives reduced to inside/outside the home area;
    raw coordinates (encrypted) only while the centre's retention period lasts."""

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=12, choices=EventType.choices)
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    battery_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    inside_geofence = models.BooleanField(null=True, blank=True)
    raw_location = EncryptedTextField(blank=True, default="")

    class Meta:
        verbose_name = _("box event")
        constraints = [
            models.UniqueConstraint(fields=["box", "seq", "position"], name="boxevent_unique_seq")
        ]
        indexes = [models.Index(fields=["box", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.box.label} {self.type} {self.at:%Y-%m-%d %H:%M}"


class AlertKind(models.TextChoices):
    TAMPER = "tamper", _("Tampering reported")
    LOCKED_OUT = "locked_out", _("Locked after wrong codes")
    OUTSIDE_GEOFENCE = "outside_geofence", _("Outside the home area")
    OPENED_WITHOUT_BOTTLE = "opened_without_bottle", _("Opened on a day without a bottle")
    NOT_OPENED = "not_opened", _("Not opened on a bottle day")


class BoxAlert(TrackedModel):
    """An alert for staff: raised by an event the box reported, or, for `not_opened`, by
    an event that never came (no event; `day` is the bottle day it is about)."""

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="alerts")
    event = models.ForeignKey(
        BoxEvent, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True
    )
    day = models.DateField(_("bottle day"), null=True, blank=True)
    kind = models.CharField(_("alert"), max_length=30, choices=AlertKind.choices)
    at = models.DateTimeField(_("at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("box alert")
        indexes = [models.Index(fields=["acknowledged_at", "at"])]
        constraints = [
            # However often the check runs for a day, a box has one alert for it.
            models.UniqueConstraint(
                fields=["box", "kind", "day"],
                condition=Q(day__isnull=False),
                name="boxalert_one_per_box_kind_day",
            ),
            # An alert comes from an event, or is about a day on which none came.
            models.CheckConstraint(
                condition=Q(event__isnull=False) | Q(day__isnull=False),
                name="boxalert_event_or_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.box.label} {self.kind}"
