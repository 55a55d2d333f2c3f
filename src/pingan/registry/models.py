"""Clients, their encrypted identity vault, consents per purpose, treatment episodes and
transfers between the region's centres.

A client exists without any identity: code, alias, sex and birth year are enough
(docs/confidentiality.md). Identity, when given, lives only in `Identity`, encrypted at rest.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.models import Centre, TrackedModel


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    OTHER = "X", _("Other / not stated")


class Language(models.TextChoices):
    CHINESE = "zh-hans", "简体中文"
    ENGLISH = "en", "English"


class Client(TrackedModel):
    # The centre the record belongs to. Code that knows the centre (a view's current centre,
    # an import, the synthetic region) sets it; the default is the installation's centre,
    # for the single-centre code paths that predate the region.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        default=Centre.current,
        related_name="+",
        verbose_name=_("centre"),
    )
    # Unique per centre: each centre numbers its own clients.
    code = models.CharField(_("client code"), max_length=40)
    alias = models.CharField(_("alias"), max_length=80)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.CHINESE
    )
    # A face photo lets the nurse recognise the client without reading any identity field.
    photo = EncryptedTextField(_("photo"), blank=True, default="")

    class Meta:
        verbose_name = _("client")
        constraints = [
            models.UniqueConstraint(fields=["centre", "code"], name="client_code_once_per_centre"),
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900) & Q(birth_year__lte=2100),
                name="client_birth_year_range",
            ),
            models.CheckConstraint(condition=Q(sex__in=["M", "F", "X"]), name="client_sex_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.alias})"


class DocumentType(models.TextChoices):
    """Which identity document the number comes from: only a PRC resident ID has a format
    (and a check digit) we can verify; passports and other papers are taken as written."""

    PRC_ID = "prc_id", _("PRC resident identity card")
    OTHER = "other", _("Passport or other document")


class Identity(TrackedModel):
    """The vault: every field encrypted; reading it is audited (see registry.actions)."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="identity")
    name = EncryptedTextField(_("name"), blank=True, default="")
    document_type = models.CharField(
        _("document type"), max_length=10, choices=DocumentType.choices, default=DocumentType.PRC_ID
    )
    national_id = EncryptedTextField(_("national ID"), blank=True, default="")
    national_id_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    # The keyed index of the phone number (E.164), for the region's dual-enrolment check of
    # a person enrolled without an ID document (`registry.actions.phone_index`).
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    address = EncryptedTextField(_("address"), blank=True, default="")

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")

    def __str__(self) -> str:
        return f"identity of {self.client.code}"


class Purpose(models.TextChoices):
    POLICE_RECORD_CHECK = "police_record_check", _("Police record check (take-home)")
    POLICE_REFERRAL_FEEDBACK = "police_referral_feedback", _("Feedback to the referring police")
    SMS = "sms", _("Text messages")
    BOX_LOCATION = "box_location", _("Take-home box location")
    RESEARCH = "research", _("Research")


class Consent(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=40, choices=Purpose.choices)
    given_on = models.DateField(_("given on"))
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("consent")
        constraints = [
            # One live consent per purpose; history is kept as revoked rows.
            models.UniqueConstraint(
                fields=["client", "purpose"],
                condition=Q(revoked_on__isnull=True),
                name="consent_one_live_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=models.F("given_on")),
                name="consent_revoked_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.code}: {self.purpose}"


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", _("Completed treatment (tapered off)")
    TRANSFERRED = "transferred", _("Transferred to another centre")
    DROPPED_OUT = "dropped_out", _("Stopped attending")
    DETAINED = "detained", _("Detained or imprisoned")
    MOVED = "moved", _("Moved away")
    DIED = "died", _("Died")
    RULES = "rules", _("Discharged for breaking centre rules")
    OTHER = "other", _("Other")


def _fill_centres(episodes) -> None:
    """Give each episode without a centre its client's centre (one query for them all)."""
    missing = {e.client_id for e in episodes if e.centre_id is None and e.client_id}
    if not missing:
        return
    centres = dict(Client.objects.filter(pk__in=missing).values_list("pk", "centre_id"))
    for episode in episodes:
        if episode.centre_id is None:
            episode.centre_id = centres.get(episode.client_id)


class EpisodeManager(models.Manager):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _fill_centres(objs)
        return super().bulk_create(objs, *args, **kwargs)


class Episode(TrackedModel):
    """One treatment episode: from enrolment to discharge. Re-enrolment opens a new one.

    `centre` is where the episode ran: the client's centre when it opened. A transfer
    closes the episode at the old centre and opens one at the new, so a client's history
    says where each part of their treatment took place."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="episodes")
    # Left out, it is the client's centre (in `save` and `bulk_create`).
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="+", verbose_name=_("centre")
    )
    enrolled_on = models.DateField(_("enrolled on"))
    discharged_on = models.DateField(_("discharged on"), null=True, blank=True)
    discharge_reason = models.CharField(
        _("discharge reason"), max_length=20, choices=DischargeReason.choices, blank=True
    )
    discharge_note = models.CharField(_("discharge note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("treatment episode")
        ordering = ["client", "enrolled_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(discharged_on__isnull=True),
                name="episode_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("enrolled_on")),
                name="episode_discharge_after_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["enrolled_on"]), models.Index(fields=["discharged_on"])]

    def __str__(self) -> str:
        return f"{self.client.code} {self.enrolled_on}–{self.discharged_on or ''}"

    objects = EpisodeManager()

    def save(self, *args, **kwargs):
        if self.centre_id is None and self.client_id is not None:
            self.centre_id = self.client.centre_id
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None


class AttemptKind(models.TextChoices):
    ENROL = "enrol", _("Enrolment")
    IDENTITY = "identity", _("Identity edit")
    RE_ENROL = "re_enrol", _("Re-enrolment")


class EnrolmentAttempt(TrackedModel):
    """Another centre tried to enrol someone who is in treatment here, and was stopped.

    The notice names this centre's own client and the centre that tried, nothing about the
    person beyond what this centre already holds (docs/confidentiality.md)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    attempted_at = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="+", verbose_name=_("tried at centre")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AttemptKind.choices)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("enrolment attempt elsewhere")
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.client.code} tried at {self.attempted_at_id} {self.at:%Y-%m-%d}"


class Transfer(TrackedModel):
    """A client moved for good from one centre of the region to another, with their consent.

    The client keeps one record: its doses, holds and history move with it; the episode at
    the old centre was closed and one at the new centre opened (`actions.transfer_client`).
    The old centre keeps this row to say where the client went."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="transfers")
    from_centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="+", verbose_name=_("from centre")
    )
    to_centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="+", verbose_name=_("to centre")
    )
    consent_recorded_on = models.DateField(_("consent recorded on"))
    reason = models.CharField(_("reason"), max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transferred by"),
    )
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("transfer to another centre")
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_centre=models.F("to_centre")),
                name="transfer_to_another_centre",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="transfer_reason_given"),
        ]
        indexes = [models.Index(fields=["from_centre", "at"])]

    def __str__(self) -> str:
        return f"{self.client.code} {self.from_centre_id}→{self.to_centre_id} {self.at:%Y-%m-%d}"
