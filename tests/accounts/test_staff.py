"""Staff management by the centre manager; everyone else is refused."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.urls import reverse

from pingan.accounts.queries import is_slowed_down, profile_of
from pingan.accounts.roles import role_of
from pingan.audit.models import AuditEntry
from pingan.core import clock

NEW_PASSWORD = "methadone-window-7421"


def _create(client, username="nurse2", password=NEW_PASSWORD, role="nurse"):
    return client.post(
        reverse("accounts:staff_create"),
        {
            "username": username,
            "password1": password,
            "password2": password,
            "role": role,
            "language": "en",
        },
    )


def test_manager_creates_a_nurse_who_can_sign_in(client_as, client):
    manager = client_as("manager")
    response = _create(manager)
    assert response.status_code == 302
    nurse = User.objects.get(username="nurse2")
    assert role_of(nurse) == "nurse"
    assert profile_of(nurse).language == "en"
    entry = AuditEntry.objects.get(action="staff_created")
    assert entry.username == "manager1" and entry.target == "user:nurse2"
    assert NEW_PASSWORD not in str(entry.detail)
    assert "nurse2" in manager.get(reverse("accounts:staff_list")).content.decode()

    manager.post(reverse("accounts:logout"))
    signed_in = client.post(
        reverse("accounts:login"), {"username": "nurse2", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("home")).url == reverse("dosing:queue")


def test_initial_password_is_validated(client_as):
    manager = client_as("manager")
    manager.cookies["django_language"] = "en"
    for weak in ("short", "password123", "nurse2-abc"):
        response = _create(manager, password=weak)
        assert response.status_code == 400, weak
        assert "errorlist" in response.content.decode()
    assert not User.objects.filter(username="nurse2").exists()


def test_duplicate_username_refused(client_as):
    response = _create(client_as("manager"), username="NURSE1")
    assert response.status_code == 400
    assert User.objects.filter(username__iexact="nurse1").count() == 1


def test_nurse_cannot_reach_staff_management(client_as):
    nurse = client_as("nurse")
    for url in (reverse("accounts:staff_list"), reverse("accounts:staff_create")):
        assert nurse.get(url).status_code == 403
    assert (
        nurse.post(reverse("accounts:staff_active", args=["manager1"]), {"active": "0"}).status_code
        == 403
    )
    assert User.objects.get(username="manager1").is_active
    denied = AuditEntry.objects.filter(action="access_denied", username="nurse1")
    assert denied.filter(target=reverse("accounts:staff_list")).exists()


def test_change_role(client_as, users):
    manager = client_as("manager")
    url = reverse("accounts:staff_role", args=["nurse1"])
    assert manager.post(url, {"role": "clinician"}).status_code == 302
    assert role_of(User.objects.get(username="nurse1")) == "clinician"
    assert AuditEntry.objects.filter(action="staff_role_changed", target="user:nurse1").exists()
    assert manager.post(url, {"role": "admin"}).status_code == 400


def test_manager_cannot_demote_or_deactivate_self(client_as, users):
    manager = client_as("manager")
    manager.post(reverse("accounts:staff_role", args=["manager1"]), {"role": "nurse"})
    manager.post(reverse("accounts:staff_active", args=["manager1"]), {"active": "0"})
    me = User.objects.get(username="manager1")
    assert role_of(me) == "manager" and me.is_active


def test_deactivate_and_reactivate(client_as, client, users):
    manager = client_as("manager")
    url = reverse("accounts:staff_active", args=["nurse1"])
    manager.post(url, {"active": "0"})
    assert not User.objects.get(username="nurse1").is_active
    assert "staff_deactivated" in AuditEntry.objects.values_list("action", flat=True)
    manager.post(url, {"active": "1"})
    assert User.objects.get(username="nurse1").is_active


def test_clear_failed_sign_ins(client_as, users, password):
    """The manager's reset ends every wait on the account at once, from any address."""
    from django.test import Client

    outsider = Client(REMOTE_ADDR="198.51.100.7")
    with clock.frozen(datetime(2026, 3, 2, 8, 0)):
        for _ in range(5):
            outsider.post(
                reverse("accounts:login"), {"username": "nurse1", "password": "nope-nope-1"}
            )
        assert is_slowed_down("nurse1")
        refused = outsider.post(
            reverse("accounts:login"), {"username": "nurse1", "password": password}
        )
        assert refused.status_code == 429
        manager = client_as("manager")
        manager.cookies["django_language"] = "en"
        listing = manager.get(reverse("accounts:staff_list")).content.decode()
        assert "Sign-in slowed down" in listing
        detail = manager.get(reverse("accounts:staff_detail", args=["nurse1"])).content.decode()
        assert 'id="failed-sign-ins">5<' in detail
        assert manager.post(reverse("accounts:staff_unlock", args=["nurse1"])).status_code == 302
        assert not is_slowed_down("nurse1")
        entry = AuditEntry.objects.get(action="staff_unlocked", target="user:nurse1")
        assert entry.detail["attempts_cleared"] == 5
        response = outsider.post(
            reverse("accounts:login"), {"username": "nurse1", "password": password}
        )
        assert response.status_code == 302


def test_require_second_factor(client_as, users):
    manager = client_as("manager")
    manager.post(reverse("accounts:staff_totp", args=["nurse1"]), {"required": "1"})
    assert profile_of(users["nurse"]).require_totp
    manager.post(reverse("accounts:staff_totp", args=["nurse1"]), {"required": "0"})
    assert not profile_of(users["nurse"]).require_totp


def test_manager_sets_a_new_password(client_as, users):
    manager = client_as("manager")
    url = reverse("accounts:staff_password", args=["nurse1"])
    bad = manager.post(url, {"new_password1": "abc", "new_password2": "abc"})
    assert bad.status_code == 400
    ok = manager.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert ok.status_code == 302
    assert User.objects.get(username="nurse1").check_password(NEW_PASSWORD)


def test_unknown_staff_member_is_404(client_as):
    assert (
        client_as("manager").get(reverse("accounts:staff_detail", args=["ghost"])).status_code
        == 404
    )
