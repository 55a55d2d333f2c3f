"""Take-home doses: the bottle is the unit that covers one day's dose (DESIGN.md §3.3)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
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

    class Meta:
        verbose_name = _("take-home bottle")
        constraints = [
            models.UniqueConstraint(fields=["client", "day"], name="bottle_one_per_client_per_day"),
            models.CheckConstraint(condition=Q(mg__gte=1) & Q(mg__lte=400), name="bottle_mg_range"),
        ]
        indexes = [models.Index(fields=["day", "box"])]

    def __str__(self) -> str:
        return f"{self.client.code} {self.day}"
