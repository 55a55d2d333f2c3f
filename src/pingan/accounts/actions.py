"""State changes to staff accounts: one transaction each, every one audited."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group, User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.audit.log import record

from .queries import profile_of
from .roles import ROLES


def _target(user: User) -> str:
    return f"user:{user.username}"


def _set_role(user: User, role: str) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))


@transaction.atomic
def create_staff(username: str, password: str, role: str, language: str) -> User:
    user = User.objects.create_user(username, password=password)
    _set_role(user, role)
    profile = profile_of(user)
    profile.language = language
    profile.save(update_fields=["language"])
    record("staff_created", target=_target(user), role=role, language=language)
    return user


@transaction.atomic
def change_role(user: User, role: str) -> None:
    old = [g.name for g in user.groups.filter(name__in=ROLES)]
    _set_role(user, role)
    record("staff_role_changed", target=_target(user), old=old, new=role)


@transaction.atomic
def set_active(user: User, active: bool) -> None:
    user.is_active = active
    user.save(update_fields=["is_active"])
    record("staff_reactivated" if active else "staff_deactivated", target=_target(user))


@transaction.atomic
def set_require_totp(user: User, required: bool) -> None:
    profile = profile_of(user)
    profile.require_totp = required
    profile.save(update_fields=["require_totp"])
    record("staff_totp_required", target=_target(user), required=required)


@transaction.atomic
def unlock(user: User) -> int:
    """Clear django-axes failures so a locked-out account can sign in again at once."""
    cleared = axes_reset(username=user.username)
    record("staff_unlocked", target=_target(user), attempts_cleared=cleared)
    return cleared


@transaction.atomic
def set_password(user: User, password: str, own: bool) -> None:
    """The password itself never reaches the audit log."""
    user.set_password(password)
    user.save(update_fields=["password"])
    record("password_changed" if own else "staff_password_set", target=_target(user))


@transaction.atomic
def set_language(user: User, language: str) -> None:
    profile = profile_of(user)
    profile.language = language
    profile.save(update_fields=["language"])
    record("language_set", target=_target(user), language=language)


@transaction.atomic
def start_totp(user: User) -> TOTPDevice:
    """A fresh, unconfirmed device; any earlier unfinished setup is discarded."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name="Ping An", confirmed=False)
    record("totp_setup_started", target=_target(user))
    return device


@transaction.atomic
def confirm_totp(device: TOTPDevice) -> None:
    """The new device replaces any earlier one: one second factor per person."""
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record("totp_confirmed", target=_target(device.user))


@transaction.atomic
def remove_totp(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    record("totp_removed", target=_target(user))


def record_verified(user: User) -> None:
    """The second step passed: the session is now fully signed in."""
    record("login_second_factor", target=_target(user))


def record_verify_failed(user: User) -> None:
    record("login_second_factor_failed", target=_target(user))
