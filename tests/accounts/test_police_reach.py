"""The police role reaches no clinical page (docs/confidentiality.md): the URLs an officer may open are
exactly a reviewed list, derived from the same URL walk as the permission matrix."""

from __future__ import annotations

import pytest
from test_permission_matrix import ROUTES, _allowed

pytestmark = pytest.mark.django_db

# Namespaces whose every page is clinical or identifying: an officer reaches none of them.
CLINICAL = ("registry", "dosing", "labs", "inpatient", "services", "lockbox", "messaging", "audit")

# What an officer may open: their start page and profile, suppressed indicators, their own
# referrals, and the record check / co-signature of the take-home standard.
POLICE_MAY_OPEN = {
    "home",
    "police_home",
    "accounts:police_home",
    "accounts:profile",
    "accounts:profile_language",
    "accounts:profile_password",
    "accounts:totp_start",
    "accounts:totp_confirm",
    "accounts:totp_remove",
    "indicators:dashboard",
    "indicators:evaluation",
    "region:switch",  # the header's centre switch: only among one's own centres, no data
    "recall_summary",  # monthly recall counts, small cells suppressed (docs/recalls.md)
    "station_summary",  # the bureau's referral figures by station, no person (404 otherwise)
    "referrals:index",
    "referrals:file",
    "referrals:mine",
    "referrals:mine_detail",
    "takehome:index",
    "takehome:checks",
    "takehome:check",
    "takehome:standards",
    "takehome:standard_sign",
}


def test_police_reach_exactly_the_reviewed_pages(users):
    reached = {name for _, name, callback in ROUTES if _allowed(users["police"], callback)}
    assert not {name for name in reached if name.split(":")[0] in CLINICAL}
    assert reached == POLICE_MAY_OPEN
