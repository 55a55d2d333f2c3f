"""Sign-in events into the audit log, and superusers made into usable managers.

The audit context of a sign-in request is still anonymous when these run, so each entry
names its actor explicitly. The attempted password is never recorded (Django already masks
it in the signal; only the username is read)."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from pingan.audit.context import Actor, acting_as
from pingan.audit.log import record

from .models import StaffProfile
from .roles import role_of


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _attempted(username) -> str:
    return str(username or "")[:100]


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    with acting_as(Actor(user.get_username(), role_of(user), _ip(request))):
        record("login", target=f"user:{user.get_username()}")


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    with acting_as(Actor(user.get_username(), role_of(user), _ip(request))):
        record("logout", target=f"user:{user.get_username()}")


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = _attempted(credentials.get("username"))
    with acting_as(Actor("", "", _ip(request))):
        record("login_failed", target=f"user:{username}")


@receiver(post_save, sender=User)
def superuser_is_manager(sender, instance: User, created: bool, **kwargs) -> None:
    """`pingan createsuperuser` gives the centre its first manager: role and profile."""
    if not created or not instance.is_superuser:
        return
    StaffProfile.objects.get_or_create(user=instance)
    manager = Group.objects.filter(name="manager").first()
    if manager is not None:
        instance.groups.add(manager)
