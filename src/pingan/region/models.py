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


class PoliceStation(models.Model):
    """A station of the region's police bureau: officers refer people from it."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("police station")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class OfficerPost(models.Model):
    """Where a police officer serves: a station, or the bureau itself (no station).

    A fixed attribute of the account, set by whoever manages staff: a station officer's
    referrals carry their station without typing it, and the bureau sees the referrals of
    every station. An officer without a post works as before stations existed (types the
    station, sees their own referrals)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="police_post",
        verbose_name=_("officer"),
    )
    station = models.ForeignKey(
        PoliceStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        verbose_name=_("police station"),
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("officer's post")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.station or 'bureau'}"

    @property
    def at_bureau(self) -> bool:
        return self.station_id is None


class CentreKeyGeneration(models.Model):
    """One rotation of a centre's signing key: from `created_at` on, the centre signs with
    the key of this generation (`region.signed.centre_key`).

    A centre without a row is at generation 0, the key every centre had before keys could
    be rotated one by one. Only the generation is stored, never a key: each generation's key
    is derived from the installation's key (docs/region.md, "Rotating a centre's key").
    Generation n was retired when generation n + 1 was created."""

    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        related_name="key_generations",
        verbose_name=_("centre"),
    )
    generation = models.PositiveIntegerField(_("generation"))
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("centre key generation")
        ordering = ["centre", "generation"]
        constraints = [
            # Two rotations at once cannot both make the same generation.
            models.UniqueConstraint(
                fields=["centre", "generation"], name="centre_key_generation_once"
            ),
            models.CheckConstraint(
                condition=models.Q(generation__gte=1), name="centre_key_generation_from_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre.code} key #{self.generation}"
