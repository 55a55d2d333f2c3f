"""Read models for the staff screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.core import clock

from . import throttle
from .models import EnrolmentCode, StaffProfile
from .roles import role_of


def profile_of(user: User) -> StaffProfile:
    """Every account has a profile; older accounts get one on first use."""
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    return profile


def _slowed(failures: int) -> bool:
    return failures >= settings.SIGNIN_THROTTLE["account"]["free"]


def is_slowed_down(username: str) -> bool:
    """Enough failed sign-ins of the last day that every new try of this account waits."""
    return _slowed(throttle.recent_failures(username))


def open_enrolment_code(user: User) -> EnrolmentCode | None:
    """The enrolment code the person can still use, if any (never its value)."""
    return EnrolmentCode.objects.filter(
        user=user, used_at__isnull=True, voided_at__isnull=True, expires_at__gt=clock.now()
    ).first()


@dataclass(frozen=True)
class StaffRow:
    user: User
    role: str
    active: bool
    locked: bool
    failures: int
    totp: bool
    require_totp: bool
    enrolment_code_until: datetime | None


def staff_row(user: User) -> StaffRow:
    profile = StaffProfile.objects.filter(user=user).first()
    failures = throttle.recent_failures(user.username)
    code = open_enrolment_code(user)
    return StaffRow(
        user=user,
        role=role_of(user),
        active=user.is_active,
        locked=_slowed(failures),
        failures=failures,
        totp=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        require_totp=bool(profile and profile.require_totp),
        enrolment_code_until=code.expires_at if code else None,
    )


def staff_rows() -> list[StaffRow]:
    users = User.objects.order_by("username").prefetch_related("groups")
    return [staff_row(u) for u in users]
