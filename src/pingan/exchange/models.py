"""Bulk exports asked for over HTTP (the FHIR Bulk Data kick-off / status / download flow).

An export made on the command line writes its folder and is audited; it needs no row. An
export asked for over HTTP runs after the request that asked for it, so its state lives
here: who asked, for what, how far it got, and when its files stop being served.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TrackedModel


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    COMPLETE = "complete", _("Complete")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class ExportJob(TrackedModel):
    """One bulk export asked for over HTTP. Its files are served only to `requested_by`,
    until `expires_at`; then they are deleted and the row stays as the record of it."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_from = models.CharField(max_length=64, blank=True)
    request_url = models.CharField(max_length=500, blank=True)
    # What was asked for: resource types, the centres (codes) and the first day included.
    types = models.JSONField(default=list)
    centres = models.JSONField(default=list)
    since = models.DateField(null=True, blank=True)
    audience = models.CharField(max_length=10, default="cdc")
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    written = models.PositiveBigIntegerField(default=0)
    expected = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("bulk export")
        ordering = ["-created_at"]
        constraints = [
            # A second kick-off while one of the same user's exports is waiting or running
            # is refused: the database is the rule, so two kick-offs at once make one job.
            models.UniqueConstraint(
                fields=["requested_by"],
                condition=Q(status__in=["queued", "running"]),
                name="export_one_active_per_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in JobStatus]),
                name="export_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.external_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
