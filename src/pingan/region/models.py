"""Staff membership of the region's centres.

The centres themselves are `core.Centre` (the lowest layer: every clinical app reads its
settings). A staff member belongs to one or more centres and works in one at a time
(`region.current`); a user with no membership in an installation of a single centre works
in that centre, as before the region existed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core import clock
from pingan.core.models import Centre


class Membership(models.Model):
    """A staff member may work in this centre."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="centre_memberships",
        verbose_name=_("staff member"),
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("centre")
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("centre membership")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "centre"], name="membership_once_per_centre")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.centre.code}"
