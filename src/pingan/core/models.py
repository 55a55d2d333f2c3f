"""What every record shares, and the centre itself."""

import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _


class TrackedModel(models.Model):
    """A random external id for URLs and APIs (internal keys never leave the server),
    and who created the record when."""

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        abstract = True


class Centre(models.Model):
    """The treatment centre running this installation, and its safety settings."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    review_after_missed_days = models.PositiveSmallIntegerField(
        _("clinician review after missed days"), default=3
    )
    reinduction_after_missed_days = models.PositiveSmallIntegerField(
        _("re-induction after missed days"), default=5
    )
    urine_tests_per_month = models.PositiveSmallIntegerField(
        _("random urine tests per client per month"), default=2
    )

    class Meta:
        verbose_name = _("centre")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    reinduction_after_missed_days__gt=models.F("review_after_missed_days")
                ),
                name="centre_reinduction_after_review",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Centre":
        """The installation's centre (created with defaults on first use)."""
        centre = cls.objects.order_by("pk").first()
        if centre is not None:
            return centre
        try:
            # Two first requests may race to create it; the loser reads the winner's row.
            with transaction.atomic():
                return cls.objects.create(code="PA-001", name="Ping An Centre")
        except IntegrityError:
            return cls.objects.order_by("pk").first()


class ClosedDay(TrackedModel):
    """A day the centre closes that no calendar knows: staff training, a local holiday, or
    every public holiday of a year the holiday calendar has no data for yet. The rest of the
    definition (weekly closing days, public holidays) is in `pingan.core.closed_days`."""

    day = models.DateField(_("day"), unique=True)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("closed day")
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="closed_day_reason_not_empty"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.reason}"
