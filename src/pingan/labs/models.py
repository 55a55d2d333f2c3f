"""Urine drug screens (one result per analyte), infection tests (HIV, hepatitis B and C,
syphilis, TB), random test schedule."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TrackedModel
from pingan.registry.models import Client


class Analyte(models.TextChoices):
    """What a urine screen can report, in the order the entry form and the history show it:
    opioids, then the treatment itself, then other drugs (`forms.ANALYTE_GROUPS`).

    Only opiates and morphine make a sample opioid-positive (`rules.OPIOID_ANALYTES`);
    the others are recorded and shown so the clinician sees them."""

    OPIATES = "opiates", _("Opiates")
    MORPHINE = "morphine", _("Morphine")
    FENTANYL = "fentanyl", _("Fentanyl")
    TRAMADOL = "tramadol", _("Tramadol")
    BUPRENORPHINE = "buprenorphine", _("Buprenorphine")
    METHADONE = "methadone", _("Methadone")
    EDDP = "eddp", _("EDDP (methadone metabolite)")
    BENZODIAZEPINES = "benzodiazepines", _("Benzodiazepines")
    AMPHETAMINES = "amphetamines", _("Amphetamines")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine")
    KETAMINE = "ketamine", _("Ketamine")


class Result(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")


class UrineSample(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="urine_samples")
    collected_on = models.DateField(_("collected on"))
    observed = models.BooleanField(_("collection observed"), default=True)
    scheduled = models.BooleanField(_("from the random schedule"), default=False)
    # What the results say about opioids: 1 positive, 0 negative, NULL no opioid result.
    # Kept by the database from the results (labs/opioid_sql.py, generated from
    # rules.OPIOID_ANALYTES), never written by code.
    opioid = models.SmallIntegerField(null=True, editable=False)

    class Meta:
        verbose_name = _("urine sample")
        indexes = [
            # The nightly take-home list reads a client's samples and their outcome from
            # the index alone, and finds the positives (a few percent) in a partial one.
            models.Index(fields=["client", "collected_on", "opioid"], name="urine_sample_outcome"),
            models.Index(
                fields=["client", "collected_on"],
                condition=Q(opioid=1),
                name="urine_sample_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.code} {self.collected_on}"


class UrineResult(models.Model):
    sample = models.ForeignKey(UrineSample, on_delete=models.CASCADE, related_name="results")
    analyte = models.CharField(_("analyte"), max_length=20, choices=Analyte.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)

    class Meta:
        verbose_name = _("urine result")
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "analyte"], name="urine_one_result_per_analyte"
            ),
            models.CheckConstraint(
                condition=Q(result__in=["positive", "negative"]), name="urine_result_valid"
            ),
            # Whatever writes a result (screen, import, restore), an analyte the screens and
            # the indicators do not know cannot be stored; a new one needs a migration.
            models.CheckConstraint(
                condition=Q(analyte__in=Analyte.values), name="urine_analyte_known"
            ),
        ]


class TestKind(models.TextChoices):
    HIV = "hiv", _("HIV")
    HBV = "hbv", _("Hepatitis B")
    HCV = "hcv", _("Hepatitis C")
    SYPHILIS = "syphilis", _("Syphilis")
    TB = "tb", _("Tuberculosis")


class InfectionTest(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="infection_tests")
    tested_on = models.DateField(_("tested on"))
    test = models.CharField(_("test"), max_length=10, choices=TestKind.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)

    class Meta:
        verbose_name = _("infection test")
        indexes = [models.Index(fields=["client", "test", "tested_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(test__in=TestKind.values), name="infection_test_known"
            ),
            models.CheckConstraint(
                condition=Q(result__in=["positive", "negative"]), name="infection_test_result_valid"
            ),
        ]


class ScheduledUrineTest(TrackedModel):
    """A day on which the client is asked for a sample, drawn at random and not announced."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="scheduled_tests")
    on = models.DateField(_("date"))
    sample = models.OneToOneField(UrineSample, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled urine test")
        constraints = [
            models.UniqueConstraint(fields=["client", "on"], name="schedule_one_per_day")
        ]


class MethadoneNegativeReview(TrackedModel):
    """A clinician looked at a sample negative for methadone and EDDP (labs.flags) and
    wrote down what they made of it; the sample's flag is cleared by this row. One per
    sample (the database says so): a cleared flag cannot be cleared twice."""

    sample = models.OneToOneField(
        UrineSample, on_delete=models.PROTECT, related_name="methadone_review"
    )
    note = models.TextField(_("note"))

    class Meta:
        verbose_name = _("methadone-negative review")
        constraints = [models.CheckConstraint(condition=~Q(note=""), name="methadone_review_note")]
