"""The append-only, keyed chain of every identity read and every write.

Each entry's link (`hash`) is a MAC, under the audit key held outside the database, of its
own fields, its sequence number and the previous entry's link (`chain.py`), so an edit or a
deletion anywhere breaks the chain from that point on (`pingan audit verify`), and nobody
without the key can re-link it. Signed checkpoints kept outside the database (`anchor.py`)
expose a rewrite even by someone who has the key. The database refuses UPDATE and DELETE on
the table (triggers in the migration) and the model refuses them in Python too.

There is one chain per centre, and one for the region (`centre` NULL: sign-ins, the
region's own settings, commands for no centre), so writers in two centres never wait for
each other's head. `seq` counts within a chain; `id` is the order of writing across them.
"""

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    centre = models.ForeignKey(
        "core.Centre", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seq = models.PositiveBigIntegerField(_("sequence"))
    at = models.DateTimeField(_("when"))
    username = models.CharField(_("who"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=30, blank=True)
    action = models.CharField(_("action"), max_length=40)
    target = models.CharField(_("what"), max_length=120, blank=True)
    client_code = models.CharField(_("client"), max_length=40, blank=True)
    ip = models.CharField(_("from where"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The fingerprint of the audit key that made `hash` (`keys.key_id`). NULL: written before
    # the chain was keyed, linked by plain SHA-256 (`chain.legacy_digest`). Nullable so that
    # adding it leaves SQLite's table, and its append-only triggers, as they are.
    key_id = models.CharField(max_length=8, null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["id"]
        indexes = [models.Index(fields=["client_code", "at"])]
        constraints = [
            models.UniqueConstraint(fields=["centre", "seq"], name="audit_seq_per_centre"),
            # NULL is distinct from NULL in a unique index: the region chain needs its own.
            models.UniqueConstraint(
                fields=["seq"], condition=models.Q(centre__isnull=True), name="audit_seq_region"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")


class AuditHead(models.Model):
    """One row per chain, locked while appending, so concurrent writers extend that chain in
    turn. `hash` is the last entry's link; `centre` NULL is the region's chain."""

    centre = models.ForeignKey(
        "core.Centre", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [
            models.UniqueConstraint(Coalesce("centre", Value(0)), name="audit_one_head_per_chain"),
        ]
