"""Staff accounts are Django users; a role is a Django group with explicit permissions.

The permissions below are the vocabulary every view and API endpoint declares."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Permit(models.Model):
    """Holder of the project's own permissions (no rows)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_queue", _("See the dosing queue")),
            ("record_dose", _("Record a dose")),
            ("view_client", _("See a client's clinical record")),
            ("view_identity", _("Read a client's identity fields")),
            ("enrol_client", _("Enrol and discharge clients")),
            ("manage_consent", _("Record and revoke consents")),
            ("prescribe", _("Prescribe and change doses")),
            ("clear_hold", _("Clear dosing holds")),
            ("manage_stock", _("Receive, correct and reconcile methadone stock")),
            ("record_urine", _("Record urine samples")),
            ("record_test", _("Record HIV, HCV and TB tests")),
            ("import_records", _("Import legacy records")),
            ("manage_staff", _("Manage staff and settings")),
            ("view_audit", _("Read the audit log")),
            ("view_health_data", _("See client-level health data (CDC)")),
            ("view_indicators", _("See indicators")),
            ("file_referral", _("File a police referral")),
            ("record_check", _("Perform the police record check")),
            # Take-home programme
            ("view_eligibility", _("See the take-home eligibility list")),
            ("draft_standard", _("Draft a new version of the take-home standard")),
            ("sign_standard", _("Co-sign the take-home standard")),
            ("decide_takehome", _("Decide take-home requests")),
            ("dispense_takehome", _("Dispense take-home bottles and count returns")),
            ("manage_boxes", _("Issue and retire lockboxes")),
            ("view_box_alerts", _("See lockbox alerts")),
            ("manage_messaging", _("See and retry the SMS outbox")),
            # Referrals and services
            ("manage_referrals", _("Work the police referral inbox")),
            ("manage_care_referrals", _("Send and follow up care referrals")),
            ("record_service", _("Record services and group sessions")),
            # Inpatient unit
            ("inpatient_view", _("See the inpatient bed board")),
            ("inpatient_admit", _("Admit, move and discharge inpatients")),
            ("inpatient_billing", _("Take payments and issue refunds")),
            ("manage_tariff", _("Manage the inpatient tariff and beds")),
            ("inpatient_orders", _("Write taper orders and care notes")),
            ("inpatient_nursing", _("Record inpatient doses and withdrawal scores")),
            # Indicators
            ("drilldown_indicators", _("See the clients behind an indicator")),
            ("export_indicators", _("Export indicator reports")),
        ]


class StaffProfile(models.Model):
    user = models.OneToOneField("auth.User", on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    require_totp = models.BooleanField(_("require a second factor"), default=False)

    class Meta:
        verbose_name = _("staff profile")


class EnrolmentCode(models.Model):
    """A one-time code the centre manager hands a person so they can set up the
    authenticator their account requires. Without it a password alone could enrol the
    holder's own phone. Only a hash is kept: the code is shown once, to the manager."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=200)
    issued_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    wrong_tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("authenticator enrolment code")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(used_at__isnull=True, voided_at__isnull=True),
                name="one_open_enrolment_code_per_user",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(voided_at__isnull=True),
                name="enrolment_code_used_or_voided",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")),
                name="enrolment_code_expires_after_issue",
            ),
        ]


class SignInFailure(models.Model):
    """One failed sign-in, or one still being checked: what the throttle counts
    (`throttle.py`). Not the audit record (that is `login_failed` on the chain): rows are
    deleted when the same account signs in from the same address, and after a day."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("failed sign-in")
        indexes = [
            models.Index(fields=["username", "at"]),
            models.Index(fields=["address", "at"]),
            models.Index(fields=["at"]),
        ]
