"""Roles (docs/confidentiality.md) as Django groups with explicit permissions.

The table is the single definition of who may do what; the permission-matrix test reads it.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

# A role's name and a permission's full name are the domain kit's, so the bottom layer can
# name the actor and check permissions without importing this app.
from pingan.core.domain import permission as perm
from pingan.core.domain import role_of

__all__ = ["ROLES", "ROLE_PERMISSIONS", "ensure_roles", "perm", "role_of"]

ROLES = ("nurse", "clinician", "manager", "cdc", "police")

ROLE_PERMISSIONS: dict[str, set[str]] = {
    # The nurse sees the client by code and alias, not their identity.
    "nurse": {
        "view_queue",
        "record_dose",
        "view_client",
        "record_urine",
        "dispense_takehome",
        "record_service",
        "inpatient_view",
        "inpatient_nursing",
    },
    "clinician": {
        "view_queue",
        "record_dose",
        "view_client",
        "view_identity",
        "enrol_client",
        "manage_consent",
        "prescribe",
        "clear_hold",
        "record_urine",
        "record_test",
        "view_indicators",
        "drilldown_indicators",
        "view_eligibility",
        "decide_takehome",
        "dispense_takehome",
        "manage_boxes",
        "view_box_alerts",
        "manage_referrals",
        "manage_care_referrals",
        "record_service",
        "inpatient_view",
        "inpatient_admit",
        "inpatient_orders",
        "inpatient_nursing",
    },
    "manager": {
        "view_queue",
        "view_client",
        "view_identity",
        "enrol_client",
        "manage_consent",
        "manage_stock",
        "import_records",
        "manage_staff",
        "view_audit",
        "view_indicators",
        "drilldown_indicators",
        "export_indicators",
        "view_eligibility",
        "draft_standard",
        "manage_boxes",
        "view_box_alerts",
        "manage_messaging",
        "manage_referrals",
        "manage_care_referrals",
        "record_service",
        "inpatient_view",
        "inpatient_admit",
        "inpatient_billing",
        "manage_tariff",
    },
    # The CDC sees health data, never identity unless consented (checked per client).
    "cdc": {
        "view_health_data",
        "view_indicators",
        "export_indicators",
        "sign_standard",
    },
    # The police see no clinical record at all: aggregates (suppressed), their own
    # referrals, record checks of consenting applicants, and the standard they co-sign.
    "police": {"file_referral", "record_check", "view_indicators", "sign_standard"},
}


def ensure_roles(**kwargs) -> None:
    """Create or update the role groups after every migrate."""
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="accounts")}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in codenames if c in perms])
