"""The SMS outbox (docs/lockbox-protocol.md): every text goes through a row here first.

Queueing is idempotent by `dedupe_key` (one row per due PIN: box and day). Sending claims a
row for one run at a time (a lease: `lease_owner`, `lease_until`), in the same commit that
records the handover, so two runs never hand the same message to the gateway. A message
whose run stopped inside the gateway call is never sent again by itself: a delivery
report settles it, or it waits for staff as *needs checking*. The states and how a
message moves between them are in docs/sms-gateway.md. Phone number and text are
encrypted at rest: the text carries the day's PIN."""

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
    UNKNOWN = "unknown", _("Needs checking")
    EXPIRED = "expired", _("Expired")


class Reason(models.TextChoices):
    """Why a message is where it is, when the state alone does not say (shown to staff,
    next to the gateway's own words in `last_error`)."""

    DAY_PASSED = (
        "day passed",
        _("Its day passed before it was sent; a past day's code is never sent."),
    )
    INTERRUPTED = (
        "interrupted",
        _(
            "The run sending it stopped after handing it to the gateway, before the gateway "
            "answered. It may or may not have gone out."
        ),
    )
    NO_ANSWER = (
        "no answer",
        _(
            "The gateway took the request but did not answer in time. It may or may not have "
            "gone out."
        ),
    )
    NO_REPORT = (
        "no report",
        _("No delivery report came after the handover. It may or may not have gone out."),
    )
    REPORTED_FAILED = "report failed", _("The gateway reported that it could not deliver it.")
    CONFIRMED = "confirmed", _("Staff checked the gateway and confirmed it went out.")
    REQUEUED = "requeued", _("Staff put it back in the queue.")


class Purpose(models.TextChoices):
    PIN = "pin", _("Day's box code")
    RECALL = "recall", _("Bottle recall")
    REMINDER = "reminder", _("Reminder to come back")


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
    handed_at = models.DateTimeField(_("handed to the gateway at"), null=True, blank=True)
    # The run that holds the message while it is "sending", and until when: a run that
    # finds the lease over knows the holder stopped (docs/sms-gateway.md).
    lease_owner = models.CharField(max_length=80, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    dlr_requested = models.BooleanField(default=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    backend = models.CharField(_("gateway"), max_length=20, blank=True)
    gateway_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    dlr_token = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("text message")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="sms_status_valid"
            ),
            # A message in the gateway's hands always names the run holding it and when.
            models.CheckConstraint(
                condition=~Q(status=Status.SENDING)
                | (~Q(lease_owner="") & Q(lease_until__isnull=False) & Q(handed_at__isnull=False)),
                name="sms_sending_has_lease",
            ),
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
