"""What a prescriber must know beside the dose: ECGs with their QTc, the client's other
medicines, and a pregnancy. Written by `safety_actions`, read by `safety` and the rules.

Imported by `models.py`, so Django registers these models with the dosing app."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TrackedModel
from pingan.registry.models import Client

from .limits import QTC_MAX_MS, QTC_MIN_MS


class Ecg(TrackedModel):
    """An ECG, kept for its corrected QT interval (methadone prolongs the QT interval)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="ecgs")
    recorded_on = models.DateField(_("date of the ECG"))
    qtc_ms = models.PositiveSmallIntegerField(_("QTc (ms)"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ECG")
        ordering = ["client", "-recorded_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(qtc_ms__gte=QTC_MIN_MS) & Q(qtc_ms__lte=QTC_MAX_MS),
                name="ecg_qtc_range",
            )
        ]


class OtherMedicine(TrackedModel):
    """A medicine the client takes beside methadone, from `started_on` until `stopped_on`.
    `name` is what the clinician wrote; `interactions.match` recognises the ones that
    matter for methadone, in English or Chinese."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="other_medicines")
    name = models.CharField(_("medicine"), max_length=120)
    started_on = models.DateField(_("started on"))
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("other medicine")
        ordering = ["client", "stopped_on", "-started_on"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="medicine_named"),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=models.F("started_on")),
                name="medicine_stops_after_start",
            ),
        ]


class Pregnancy(TrackedModel):
    """A pregnancy: from the day it was known, with the expected date of delivery, until it
    ends. While one is open a taper needs an override (withdrawal risks the pregnancy)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="pregnancies")
    known_on = models.DateField(_("known since"))
    due_on = models.DateField(_("expected delivery"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("pregnancy")
        ordering = ["client", "-known_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(ended_on__isnull=True), name="pregnancy_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("known_on")),
                name="pregnancy_ends_after_known",
            ),
        ]
