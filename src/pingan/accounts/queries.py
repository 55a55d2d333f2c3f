"""Read models for the staff screens."""

from __future__ import annotations

from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.core import clock

from .models import StaffProfile
from .roles import role_of


def profile_of(user: User) -> StaffProfile:
    """Every account has a profile; older accounts get one on first use."""
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    return profile


def is_locked_out(username: str) -> bool:
    """Locked by django-axes: the failure limit reached within the cool-off period."""
    since = clock.now() - timezone.timedelta(hours=settings.AXES_COOLOFF_TIME)
    failures = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return (failures or 0) >= settings.AXES_FAILURE_LIMIT


@dataclass(frozen=True)
class StaffRow:
    user: User
    role: str
    active: bool
    locked: bool
    totp: bool
    require_totp: bool


def staff_row(user: User) -> StaffRow:
    profile = StaffProfile.objects.filter(user=user).first()
    return StaffRow(
        user=user,
        role=role_of(user),
        active=user.is_active,
        locked=is_locked_out(user.username),
        totp=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        require_totp=bool(profile and profile.require_totp),
    )


def staff_rows() -> list[StaffRow]:
    users = User.objects.order_by("username").prefetch_related("groups")
    return [staff_row(u) for u in users]
