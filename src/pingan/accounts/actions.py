"""State changes to staff accounts: one transaction each, every one audited."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.audit.log import record
from pingan.core import clock

from . import throttle
from .models import EnrolmentCode
from .otp import (
    ENROLMENT_CODE_TRIES,
    ENROLMENT_CODE_VALID,
    new_enrolment_code,
    normalise_enrolment_code,
)
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
    """Forget the account's failed sign-ins, so its waits end at once."""
    cleared = throttle.clear(user.username)
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
    """Only after a current code from the device (checked by the caller)."""
    TOTPDevice.objects.filter(user=user).delete()
    record("totp_removed", target=_target(user))


def record_setup_refused(user: User, why: str) -> None:
    """A profile set-up refused for a wrong password or code (`why`)."""
    record("totp_setup_refused", target=_target(user), why=why)


def record_remove_refused(user: User) -> None:
    record("totp_remove_refused", target=_target(user))


@transaction.atomic
def issue_enrolment_code(user: User, by: User) -> tuple[str, EnrolmentCode]:
    """A new one-time code for setting up the authenticator; any earlier unused code stops
    working. The plain code is returned once, for the manager's screen, and never stored."""
    now = clock.now()
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True, voided_at__isnull=True).update(
        voided_at=now
    )
    code = new_enrolment_code()
    issued = EnrolmentCode.objects.create(
        user=user,
        code_hash=make_password(code),
        issued_by=by,
        issued_at=now,
        expires_at=now + ENROLMENT_CODE_VALID,
    )
    record("totp_enrolment_code_issued", target=_target(user), expires_at=issued.expires_at)
    return code, issued


@transaction.atomic
def redeem_enrolment_code(user: User, typed: str) -> bool:
    """True when `typed` is this person's open, unexpired code; it is then used up. Each
    wrong try is counted and audited; after a few the code stops working."""
    now = clock.now()
    code = (
        EnrolmentCode.objects.select_for_update()
        .filter(user=user, used_at__isnull=True, voided_at__isnull=True)
        .first()
    )
    if code is None:
        record("totp_enrolment_code_refused", target=_target(user), why="none")
        return False
    if code.expires_at <= now:
        code.voided_at = now
        code.save(update_fields=["voided_at"])
        record("totp_enrolment_code_refused", target=_target(user), why="expired")
        return False
    typed = normalise_enrolment_code(typed)
    if not typed or not check_password(typed, code.code_hash):
        code.wrong_tries += 1
        if code.wrong_tries >= ENROLMENT_CODE_TRIES:
            code.voided_at = now
        code.save(update_fields=["wrong_tries", "voided_at"])
        record(
            "totp_enrolment_code_refused",
            target=_target(user),
            why="wrong",
            voided=code.voided_at is not None,
        )
        return False
    code.used_at = now
    code.save(update_fields=["used_at"])
    record("totp_enrolment_code_used", target=_target(user))
    return True


def record_verified(user: User) -> None:
    """The second step passed: the session is now fully signed in."""
    record("login_second_factor", target=_target(user))


def record_verify_failed(user: User) -> None:
    record("login_second_factor_failed", target=_target(user))
