"""Random bottle recalls (docs/recalls.md): the weekly draw and each client's recall."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import Centre, TrackedModel
from pingan.registry.models import Client


class RecallDraw(TrackedModel):
    """One week's draw: who could be drawn, the seed, and who was. The draw is a pure
    function of the week, the seed and the eligible codes (`rules.draw`), so anyone can
    repeat it from this row; the database keeps one draw per centre and ISO week (each centre
    draws among its own clients)."""

    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        default=Centre.current,
        related_name="+",
        verbose_name=_("centre"),
    )
    week = models.CharField(_("week"), max_length=8)  # 2026-W49
    seed = models.CharField(_("seed"), max_length=32)
    share = models.DecimalField(_("share drawn"), max_digits=4, decimal_places=3)
    eligible = models.JSONField(_("clients who could be drawn"), default=list)
    drawn = models.JSONField(_("clients drawn"), default=list)
    drawn_at = models.DateTimeField(_("drawn at"))

    class Meta:
        verbose_name = _("recall draw")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "week"], name="recall_draw_once_a_week")
        ]

    def __str__(self) -> str:
        return self.week


class RecallStatus(models.TextChoices):
    OPEN = "open", _("Awaiting the return")
    RETURNED = "returned", _("Returned in full")
    INCIDENT = "incident", _("Returned short: incident")
    MISSED = "missed", _("Missed: not answered within 24 hours")


class Recall(TrackedModel):
    """One client asked to bring their box and bottles in. Due 24 hours after the text was
    handed to the gateway, or after staff phoned the client (`rules.due_at`)."""

    draw = models.ForeignKey(
        RecallDraw, on_delete=models.PROTECT, null=True, blank=True, related_name="recalls"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="recalls")
    status = models.CharField(
        _("status"), max_length=10, choices=RecallStatus.choices, default=RecallStatus.OPEN
    )
    made_at = models.DateTimeField(_("recalled at"))
    message = models.ForeignKey(
        "messaging.SmsMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    phoned_at = models.DateTimeField(_("phoned at"), null=True, blank=True)
    phoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expected_bottles = models.PositiveSmallIntegerField(_("bottles expected"), null=True)
    expected_ml = models.DecimalField(
        _("volume expected (ml)"), max_digits=8, decimal_places=2, null=True
    )
    bottles_returned = models.PositiveSmallIntegerField(_("bottles returned"), null=True)
    ml_returned = models.DecimalField(
        _("volume returned (ml)"), max_digits=8, decimal_places=2, null=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    suspension = models.ForeignKey(
        "takehome.Suspension", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("bottle recall")
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["status", "made_at"])]
        constraints = [
            # One open recall per client: a second waits until the first is closed.
            models.UniqueConstraint(
                fields=["client"], condition=Q(status="open"), name="recall_one_open_per_client"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "returned", "incident", "missed"]),
                name="recall_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ml_returned__isnull=True) | Q(ml_returned__gte=0),
                name="recall_ml_not_negative",
            ),
            # Closed exactly when it is no longer open; a return has its counts.
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="recall_closed_when_done",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["returned", "incident"])
                | Q(bottles_returned__isnull=False, ml_returned__isnull=False),
                name="recall_return_counted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.code} {self.made_at:%Y-%m-%d} {self.status}"
