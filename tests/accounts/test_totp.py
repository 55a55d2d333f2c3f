"""The optional TOTP second factor: enrolment on the profile, the second step at sign-in."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import otp
from pingan.accounts.queries import profile_of
from pingan.audit.models import AuditEntry

LOGIN = "/accounts/login/"
VERIFY = "/accounts/verify/"


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    """django-otp slows down guessing after a wrong code; the tests type fast."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _secret(user) -> str:
    device = TOTPDevice.objects.filter(user=user).order_by("-id").first()
    return otp.secret_base32(device)


def _code(secret: str, steps_ahead: int = 0) -> str:
    """A code for now, or for the next 30-second step (a used code is never accepted twice)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _enrol(client, user) -> str:
    assert client.post(reverse("accounts:totp_start")).status_code == 302
    page = client.get(reverse("accounts:profile")).content.decode()
    secret = _secret(user)
    assert "<svg" in page and secret in page
    response = client.post(reverse("accounts:totp_confirm"), {"code": _code(secret)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    return secret


@pytest.fixture
def _sign_in(password):
    def sign_in(client, username: str):
        return client.post(LOGIN, {"username": username, "password": password})

    return sign_in


def test_enrol_then_sign_in_needs_the_code(client, users, _sign_in):
    nurse = users["nurse"]
    _sign_in(client, "nurse1")
    secret = _enrol(client, nurse)
    assert AuditEntry.objects.filter(action="totp_confirmed", target="user:nurse1").exists()
    client.post(reverse("accounts:logout"))

    response = _sign_in(client, "nurse1")
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    # Password alone opens nothing that needs a permission, nor the profile.
    for url in (reverse("accounts:profile"), reverse("home")):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked.url.startswith(VERIFY)

    wrong = client.post(VERIFY, {"code": "000000" if _code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert client.get(reverse("accounts:profile")).url.startswith(VERIFY)
    assert AuditEntry.objects.filter(action="login_second_factor_failed").exists()

    right = client.post(VERIFY + "?next=/accounts/profile/", {"code": _code(secret, 1)})
    assert right.status_code == 302 and right.url == "/accounts/profile/"
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_malformed_code_gets_a_clear_message(client, users, _sign_in):
    _sign_in(client, "clinician1")
    _enrol(client, users["clinician"])
    client.post(reverse("accounts:logout"))
    _sign_in(client, "clinician1")
    client.cookies["django_language"] = "en"
    response = client.post(VERIFY, {"code": "12ab"})
    assert response.status_code == 200
    assert "6 digits" in response.content.decode()


def test_wrong_code_does_not_confirm_setup(client_as, users):
    client = client_as("nurse")
    client.post(reverse("accounts:totp_start"))
    secret = _secret(users["nurse"])
    bad = str((int(_code(secret)) + 1) % 1_000_000).zfill(6)
    client.post(reverse("accounts:totp_confirm"), {"code": bad})
    assert not TOTPDevice.objects.filter(user=users["nurse"], confirmed=True).exists()


def test_remove_second_factor(client, users, _sign_in):
    _sign_in(client, "nurse1")
    _enrol(client, users["nurse"])
    assert client.post(reverse("accounts:totp_remove")).status_code == 302
    assert not TOTPDevice.objects.filter(user=users["nurse"]).exists()
    client.post(reverse("accounts:logout"))
    response = _sign_in(client, "nurse1")
    assert response.url == reverse("home")


def test_required_second_factor_cannot_be_removed(client, users, _sign_in):
    prefs = profile_of(users["nurse"])
    prefs.require_totp = True
    prefs.save()
    response = _sign_in(client, "nurse1")
    assert response.url.startswith(VERIFY)
    page = client.get(response.url).content.decode()
    assert "<svg" in page  # enrolment happens in the second step itself
    secret = _secret(users["nurse"])
    done = client.post(VERIFY, {"code": _code(secret)})
    assert done.status_code == 302
    assert TOTPDevice.objects.get(user=users["nurse"]).confirmed
    assert client.get(reverse("accounts:profile")).status_code == 200
    client.post(reverse("accounts:totp_remove"))
    assert TOTPDevice.objects.filter(user=users["nurse"], confirmed=True).exists()


def test_verify_page_needs_a_password_first(client, db):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_verify_refuses_offsite_next(client, users, _sign_in):
    _sign_in(client, "nurse1")
    _enrol(client, users["nurse"])
    client.post(reverse("accounts:logout"))
    _sign_in(client, "nurse1")
    secret = _secret(users["nurse"])
    response = client.post(VERIFY + "?next=https://evil.example/", {"code": _code(secret, 1)})
    assert response.status_code == 302 and response.url == reverse("home")
