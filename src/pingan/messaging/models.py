"""The SMS outbox (DESIGN.md §3.4): every text goes through a row here first.

Queueing is idempotent by `dedupe_key` (one row per due PIN: box and day), and sending
moves a row queued → sending → sent → delivered, so a run killed half way and started
again picks up exactly where it stopped. Phone number and text are encrypted at rest: the
text carries the day's PIN."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.models import TrackedModel
from pingan.registry.models import Client


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Handed to the gateway")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Purpose(models.TextChoices):
    PIN = "pin", _("Day's box code")


class SmsMessage(TrackedModel):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="sms_messages"
    )
    to = EncryptedTextField(_("to"))
    text = EncryptedTextField(_("text"))
    language = models.CharField(_("language"), max_length=10)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    dedupe_key = models.CharField(max_length=80, unique=True)
    box = models.ForeignKey(
        "lockbox.Box", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    day = models.DateField(_("for day"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    handed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    backend = models.CharField(_("gateway"), max_length=20, blank=True)
    gateway_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    dlr_token = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("text message")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="sms_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.day or ''} {self.status}"

    @property
    def to_masked(self) -> str:
        """The number as staff see it on the outbox screen: only the last four digits."""
        return "…" + self.to[-4:] if self.to else ""


class DeliveryReport(models.Model):
    """A delivery report from the gateway (Kannel: 1 delivered, 2 failed, 4 buffered,
    8 accepted by the SMS centre, 16 rejected)."""

    message = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="reports")
    status = models.SmallIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("delivery report")
        ordering = ["received_at"]
