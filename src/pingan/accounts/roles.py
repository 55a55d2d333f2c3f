"""Roles (DESIGN.md §1) as Django groups with explicit permissions.

The table is the single definition of who may do what; the permission-matrix test reads it.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

ROLES = ("nurse", "clinician", "manager", "cdc", "police")

ROLE_PERMISSIONS: dict[str, set[str]] = {
    # The nurse sees the client by code and alias, not their identity.
    "nurse": {"view_queue", "record_dose", "view_client", "record_urine"},
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
    },
    # The CDC sees health data, never identity unless consented (checked per client).
    "cdc": {"view_health_data", "view_indicators"},
    # The police see no clinical record at all.
    "police": {"file_referral", "record_check", "view_indicators"},
}


def ensure_roles(**kwargs) -> None:
    """Create or update the role groups after every migrate."""
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="accounts")}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in codenames if c in perms])


def role_of(user) -> str:
    """The user's role name ('' if none); a superuser counts as manager."""
    if user is None or not user.is_authenticated:
        return ""
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    if names:
        return names[0]
    return "manager" if user.is_superuser else ""


def perm(codename: str) -> str:
    return f"accounts.{codename}"
