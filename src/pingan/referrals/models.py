"""Police → centre referrals and centre → care referrals.

A police referral carries the person's name and contact as the officer knows them: identity,
so both are encrypted at rest and found again only through keyed blind indexes (for the
duplicate check). The officer who filed it sees its outcome only as `rules.police_feedback`
allows (docs/confidentiality.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.models import Centre, TrackedModel
from pingan.region.models import PoliceStation
from pingan.registry.models import Client


class ReferralStatus(models.TextChoices):
    INBOX = "inbox", _("New, not yet contacted")
    CONTACTED = "contacted", _("Contact attempted")
    ENROLLED = "enrolled", _("Enrolled")
    DECLINED = "declined", _("Declined")
    UNREACHABLE = "unreachable", _("Could not be reached")


OPEN_STATUSES = (ReferralStatus.INBOX, ReferralStatus.CONTACTED)
OUTCOME_STATUSES = (ReferralStatus.ENROLLED, ReferralStatus.DECLINED, ReferralStatus.UNREACHABLE)


class PoliceReferral(TrackedModel):
    # The centre the record belongs to: the centre it was sent to; the default (the
    # installation's centre) serves the single-centre code paths.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        default=Centre.current,
        related_name="+",
        verbose_name=_("centre"),
    )
    referred_on = models.DateField(_("referred on"))
    station = models.CharField(_("police station"), max_length=120)
    # The station of an officer posted to one (`region.OfficerPost`), fixed at filing; the
    # name above is then the station's own. Empty for an officer without a post.
    police_station = models.ForeignKey(
        PoliceStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("police station"),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="police_referrals",
        verbose_name=_("officer"),
    )
    person_name = EncryptedTextField(_("name or alias of the person"))
    person_contact = EncryptedTextField(_("contact (phone)"), blank=True, default="")
    # Keyed hashes of the normalised name and phone: duplicates are found without decrypting.
    name_index = models.CharField(max_length=64, db_index=True)
    contact_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    reason = models.CharField(_("reason for the referral"), max_length=500)
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.INBOX
    )
    outcome_on = models.DateField(_("outcome on"), null=True, blank=True)
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="police_referrals",
        verbose_name=_("client"),
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("police referral")
        ordering = ["-referred_on", "-created_at"]
        indexes = [models.Index(fields=["referred_on"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="enrolled") | Q(client__isnull=False),
                name="referral_enrolled_has_client",
            ),
            models.CheckConstraint(
                condition=Q(outcome_on__isnull=True) | Q(outcome_on__gte=models.F("referred_on")),
                name="referral_outcome_after_referral",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.external_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    VISIT = "visit", _("Visit or outreach")
    WALK_IN = "walk_in", _("The person came to the centre")


class ContactAttempt(TrackedModel):
    referral = models.ForeignKey(PoliceReferral, on_delete=models.CASCADE, related_name="attempts")
    on = models.DateField(_("date"))
    method = models.CharField(_("how"), max_length=10, choices=ContactMethod.choices)
    reached = models.BooleanField(_("the person was reached"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("contact attempt")
        ordering = ["on", "created_at"]


class CareKind(models.TextChoices):
    ART = "art", _("HIV treatment (ART)")
    HCV = "hcv", _("Hepatitis C treatment")
    TB = "tb", _("TB care")
    PSYCHIATRY = "psychiatry", _("Psychiatric care")
    SOCIAL = "social", _("Social support")


class Partner(TrackedModel):
    """An organisation the centre refers clients to (hospital, CDC clinic, NGO)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("main kind of care"), max_length=12, choices=CareKind.choices)
    contact = models.CharField(_("contact at the organisation"), max_length=200, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("partner organisation")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CareOutcome(models.TextChoices):
    LINKED = "linked", _("Reached care")
    DECLINED = "declined", _("Declined")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible at the partner")
    LOST = "lost", _("Lost to follow-up")


class CareReferral(TrackedModel):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="care_referrals")
    kind = models.CharField(_("kind of care"), max_length=12, choices=CareKind.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("partner")
    )
    sent_on = models.DateField(_("sent on"))
    due_by = models.DateField(_("due by"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=14, choices=CareOutcome.choices, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("care referral")
        ordering = ["-sent_on", "-created_at"]
        indexes = [
            models.Index(fields=["due_by", "completed_on"]),
            models.Index(fields=["client", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_by__gte=models.F("sent_on")), name="care_due_after_sent"
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True)
                | (Q(completed_on__gte=models.F("sent_on")) & ~Q(outcome="")),
                name="care_completed_after_sent_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.code} {self.kind} {self.sent_on}"
