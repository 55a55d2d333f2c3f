"""Staff accounts are Django users; a role is a Django group with explicit permissions.

The permissions below are the vocabulary every view and API endpoint declares."""

from django.db import models
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
