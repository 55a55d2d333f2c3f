"""Pin-locked take-home boxes (DESIGN.md §3.4).

The box secret is what the box and the server both derive the day's PIN from; it is
encrypted at rest and shown once, when the box is issued."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.models import TrackedModel
from pingan.registry.models import Client


class Box(TrackedModel):
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
