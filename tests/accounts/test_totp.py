"""The TOTP second factor: the second step at sign-in, setting it up (never with the
password alone), moving to a new phone, and removing it (only with a current code)."""

from __future__ import annotations

import base64
import time
from datetime import datetime

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import otp
from pingan.accounts.models import EnrolmentCode, SignInFailure
from pingan.accounts.queries import profile_of
from pingan.audit.models import AuditEntry
from pingan.core import clock

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
    """A code for now, or for a later 30-second step (a used code is never accepted twice)."""
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return str(totp.token()).zfill(6)


def _not(code: str) -> str:
    return str((int(code) + 1) % 1_000_000).zfill(6)


@pytest.fixture
def _sign_in(password):
    def sign_in(client, username: str):
        return client.post(LOGIN, {"username": username, "password": password})

    return sign_in


def _enrol(client, user, password) -> str:
    """Set up from the profile of a fully signed-in session: the password again, then a code."""
    response = client.post(reverse("accounts:totp_start"), {"password": password})
    assert response.status_code == 302
    page = client.get(reverse("accounts:profile")).content.decode()
    secret = _secret(user)
    assert "<svg" in page and secret in page
    response = client.post(reverse("accounts:totp_confirm"), {"code": _code(secret)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    return secret


def _require(user) -> None:
    prefs = profile_of(user)
    prefs.require_totp = True
    prefs.save()


def _issue_code(client_as, username: str) -> str:
    manager = client_as("manager")
    manager.cookies["django_language"] = "en"
    response = manager.post(reverse("accounts:staff_enrolment_code", args=[username]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    code = html.split('id="enrolment-code">', 1)[1].split("<", 1)[0]
    manager.post(reverse("accounts:logout"))
    return code


# The second step --------------------------------------------------------------------------


def test_enrol_then_sign_in_needs_the_code(client, users, _sign_in, password):
    nurse = users["nurse"]
    _sign_in(client, "nurse1")
    secret = _enrol(client, nurse, password)
    assert AuditEntry.objects.filter(action="totp_confirmed", target="user:nurse1").exists()
    client.post(reverse("accounts:logout"))

    response = _sign_in(client, "nurse1")
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    # Password alone opens nothing that needs a permission, nor the profile.
    for url in (reverse("accounts:profile"), reverse("home")):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked.url.startswith(VERIFY)

    wrong = client.post(VERIFY, {"code": _not(_code(secret))})
    assert wrong.status_code == 400
    assert client.get(reverse("accounts:profile")).url.startswith(VERIFY)
    assert AuditEntry.objects.filter(action="login_second_factor_failed").exists()

    right = client.post(VERIFY + "?next=/accounts/profile/", {"code": _code(secret, 1)})
    assert right.status_code == 302 and right.url == "/accounts/profile/"
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_malformed_code_gets_a_clear_message(client, users, _sign_in, password):
    _sign_in(client, "clinician1")
    _enrol(client, users["clinician"], password)
    client.post(reverse("accounts:logout"))
    _sign_in(client, "clinician1")
    client.cookies["django_language"] = "en"
    response = client.post(VERIFY, {"code": "12ab"})
    assert response.status_code == 400
    assert "6 digits" in response.content.decode()


def test_verify_page_needs_a_password_first(client, db):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_verify_refuses_offsite_next(client, users, _sign_in, password):
    _sign_in(client, "nurse1")
    _enrol(client, users["nurse"], password)
    client.post(reverse("accounts:logout"))
    _sign_in(client, "nurse1")
    secret = _secret(users["nurse"])
    response = client.post(VERIFY + "?next=https://evil.example/", {"code": _code(secret, 1)})
    assert response.status_code == 302 and response.url == reverse("home")


# A required device: the password alone never sets one up -----------------------------------


def test_password_alone_cannot_enrol_a_required_device(client, users, _sign_in):
    """The manager requires a second factor of a nurse who has none yet. Someone with her
    password gets a page asking for the manager's enrolment code: no QR code, no secret,
    no device, and no other way round it."""
    nurse = users["nurse"]
    _require(nurse)
    response = _sign_in(client, "nurse1")
    assert response.url.startswith(VERIFY)
    page = client.get(response.url).content.decode()
    assert 'name="enrolment_code"' in page and "中心主任给您的登记码" in page
    assert "<svg" not in page
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    # Guessing: six digits, something code-like, nothing at all.
    for guess in ("123456", "ABCD-EFGH-JKLM", ""):
        refused = client.post(VERIFY, {"enrolment_code": guess, "code": "123456"})
        assert refused.status_code == 400
        assert "<svg" not in refused.content.decode()
    # The profile's set-up and confirm, and the lost-phone path, all lead back to the step.
    for url in (reverse("accounts:totp_start"), reverse("accounts:totp_confirm")):
        detour = client.post(url, {"password": "correct-horse-battery", "code": "123456"})
        assert detour.status_code == 302 and detour.url.startswith(VERIFY)
    assert "<svg" not in client.get(VERIFY + "?enrol=1").content.decode()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert client.get(reverse("home")).url.startswith(VERIFY)
    refusals = AuditEntry.objects.filter(action="totp_enrolment_code_refused")
    assert refusals.count() == 2 and {e.detail["why"] for e in refusals} == {"none"}


def test_a_device_left_unconfirmed_elsewhere_cannot_be_taken_over(client, users, _sign_in):
    """A set-up started in one session (its secret on that screen) is never shown to, nor
    confirmable by, another session holding the same password."""
    nurse = users["nurse"]
    stray = TOTPDevice.objects.create(user=nurse, name="Ping An", confirmed=False)
    _require(nurse)
    _sign_in(client, "nurse1")
    page = client.get(VERIFY).content.decode()
    assert otp.secret_base32(stray) not in page
    client.post(VERIFY, {"code": _code(otp.secret_base32(stray))})
    stray.refresh_from_db()
    assert not stray.confirmed


def test_manager_enrolment_code_lets_the_person_enrol(client, client_as, users, _sign_in):
    nurse = users["nurse"]
    _require(nurse)
    code = _issue_code(client_as, "nurse1")
    assert len(code) == 14 and code[4] == code[9] == "-"
    # Kept only as a hash, and never in the audit log.
    stored = EnrolmentCode.objects.get(user=nurse)
    assert code.replace("-", "") not in stored.code_hash
    assert check_password(code.replace("-", ""), stored.code_hash)
    for entry in AuditEntry.objects.all():
        assert code.replace("-", "") not in str(entry.detail) + entry.target
    issued = AuditEntry.objects.get(action="totp_enrolment_code_issued")
    assert issued.username == "manager1" and issued.target == "user:nurse1"

    _sign_in(client, "nurse1")
    typed = code.lower().replace("-", " ")  # read aloud, typed loosely
    response = client.post(VERIFY + "?next=/accounts/profile/", {"enrolment_code": typed})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    page = client.get(response.url).content.decode()
    secret = _secret(nurse)
    assert "<svg" in page and secret in page
    done = client.post(response.url, {"code": _code(secret)})
    assert done.status_code == 302 and done.url == "/accounts/profile/"
    assert TOTPDevice.objects.get(user=nurse).confirmed
    assert client.get(reverse("accounts:profile")).status_code == 200
    stored.refresh_from_db()
    assert stored.used_at is not None
    assert AuditEntry.objects.filter(action="totp_enrolment_code_used").count() == 1

    # Single use: the lost-phone path with the same code is refused.
    client.post(reverse("accounts:logout"))
    _sign_in(client, "nurse1")
    again = client.post(VERIFY + "?enrol=1", {"enrolment_code": code})
    assert again.status_code == 400
    assert TOTPDevice.objects.filter(user=nurse).count() == 1


def test_enrolment_code_expires_after_a_day(client, client_as, users, _sign_in):
    _require(users["nurse"])
    with clock.frozen(datetime(2026, 3, 2, 8, 0)) as now:
        code = _issue_code(client_as, "nurse1")
        now.advance(hours=24)
        _sign_in(client, "nurse1")
        response = client.post(VERIFY, {"enrolment_code": code})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=users["nurse"]).exists()
    refused = AuditEntry.objects.get(action="totp_enrolment_code_refused")
    assert refused.detail == {"why": "expired"}
    assert EnrolmentCode.objects.get().voided_at is not None


def test_enrolment_code_stops_working_after_five_wrong_tries(client, client_as, users, _sign_in):
    _require(users["nurse"])
    code = _issue_code(client_as, "nurse1")
    _sign_in(client, "nurse1")
    for _ in range(5):
        assert client.post(VERIFY, {"enrolment_code": "2222-3333-4444"}).status_code == 400
    assert client.post(VERIFY, {"enrolment_code": code}).status_code == 400
    assert not TOTPDevice.objects.filter(user=users["nurse"]).exists()
    last_wrong = AuditEntry.objects.filter(
        action="totp_enrolment_code_refused", detail__why="wrong"
    ).last()
    assert last_wrong.detail["voided"] is True


def test_a_new_code_cancels_the_earlier_one(client, client_as, users, _sign_in):
    _require(users["nurse"])
    first = _issue_code(client_as, "nurse1")
    second = _issue_code(client_as, "nurse1")
    assert first != second
    assert EnrolmentCode.objects.filter(user=users["nurse"], voided_at__isnull=True).count() == 1
    _sign_in(client, "nurse1")
    assert client.post(VERIFY, {"enrolment_code": first}).status_code == 400
    assert client.post(VERIFY, {"enrolment_code": second}).status_code == 302


def test_only_managers_issue_enrolment_codes(client_as, users):
    nurse = client_as("nurse")
    url = reverse("accounts:staff_enrolment_code", args=["clinician1"])
    assert nurse.post(url).status_code == 403
    assert not EnrolmentCode.objects.exists()


def test_lost_phone_enrolment_code_replaces_the_old_device(
    client, client_as, users, _sign_in, password
):
    nurse = users["nurse"]
    _sign_in(client, "nurse1")
    _enrol(client, nurse, password)
    old = TOTPDevice.objects.get(user=nurse)
    client.post(reverse("accounts:logout"))
    code = _issue_code(client_as, "nurse1")

    _sign_in(client, "nurse1")
    assert 'id="lost-phone"' in client.get(VERIFY).content.decode()
    response = client.post(VERIFY + "?enrol=1", {"enrolment_code": code})
    assert response.status_code == 302
    new_secret = _secret(nurse)
    assert client.post(VERIFY, {"code": _code(new_secret)}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.get(user=nurse).confirmed


# The profile: setting up, moving, removing ----------------------------------------------


def test_profile_setup_needs_the_password_again(client_as, users, password):
    client = client_as("nurse")
    client.cookies["django_language"] = "en"
    missing = client.post(reverse("accounts:totp_start"))
    assert missing.status_code == 400
    wrong = client.post(reverse("accounts:totp_start"), {"password": "not-my-password"})
    assert wrong.status_code == 400
    assert "That password is not right." in wrong.content.decode()
    assert not TOTPDevice.objects.exists()
    refused = AuditEntry.objects.get(action="totp_setup_refused")
    assert refused.detail == {"why": "password"}
    # A wrong password here is a failed sign-in to the throttle.
    assert SignInFailure.objects.filter(username="nurse1").count() == 1
    right = client.post(reverse("accounts:totp_start"), {"password": password})
    assert right.status_code == 302
    assert TOTPDevice.objects.filter(user=users["nurse"], confirmed=False).count() == 1
    assert not SignInFailure.objects.exists()


def test_wrong_code_does_not_confirm_setup(client_as, users, password):
    client = client_as("nurse")
    client.post(reverse("accounts:totp_start"), {"password": password})
    secret = _secret(users["nurse"])
    client.post(reverse("accounts:totp_confirm"), {"code": _not(_code(secret))})
    assert not TOTPDevice.objects.filter(user=users["nurse"], confirmed=True).exists()


def test_moving_to_a_new_phone_needs_the_current_code(client, users, _sign_in, password):
    nurse = users["nurse"]
    _sign_in(client, "nurse1")
    secret = _enrol(client, nurse, password)
    without = client.post(reverse("accounts:totp_start"), {"password": password})
    assert without.status_code == 400
    wrong = client.post(
        reverse("accounts:totp_start"), {"password": password, "code": _not(_code(secret, 1))}
    )
    assert wrong.status_code == 400
    assert TOTPDevice.objects.filter(user=nurse).count() == 1
    moved = client.post(
        reverse("accounts:totp_start"), {"password": password, "code": _code(secret, 1)}
    )
    assert moved.status_code == 302
    new_secret = _secret(nurse)
    assert new_secret != secret
    client.post(reverse("accounts:totp_confirm"), {"code": _code(new_secret)})
    device = TOTPDevice.objects.get(user=nurse)
    assert device.confirmed and otp.secret_base32(device) == new_secret


def test_removing_needs_a_current_code(client, users, _sign_in, password):
    nurse = users["nurse"]
    _sign_in(client, "nurse1")
    secret = _enrol(client, nurse, password)
    for data in ({}, {"code": _not(_code(secret, 1))}, {"code": "abc"}):
        assert client.post(reverse("accounts:totp_remove"), data).status_code == 302
        assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()
    assert AuditEntry.objects.filter(action="totp_remove_refused").count() == 3
    assert not AuditEntry.objects.filter(action="totp_removed").exists()

    client.post(reverse("accounts:totp_remove"), {"code": _code(secret, 1)})
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert AuditEntry.objects.filter(action="totp_removed", target="user:nurse1").exists()
    client.post(reverse("accounts:logout"))
    assert _sign_in(client, "nurse1").url == reverse("home")


def test_required_second_factor_cannot_be_removed(client, client_as, users, _sign_in):
    nurse = users["nurse"]
    _require(nurse)
    code = _issue_code(client_as, "nurse1")
    _sign_in(client, "nurse1")
    client.post(VERIFY, {"enrolment_code": code})
    secret = _secret(nurse)
    assert client.post(VERIFY, {"code": _code(secret)}).status_code == 302
    client.post(reverse("accounts:totp_remove"), {"code": _code(secret, 1)})
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_staff_page_shows_an_open_enrolment_code(client_as, users):
    _require(users["nurse"])
    _issue_code(client_as, "nurse1")
    manager = Client()
    manager.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    manager.cookies["django_language"] = "en"
    html = manager.get(reverse("accounts:staff_detail", args=["nurse1"])).content.decode()
    assert "enrolment code issued, valid until" in html
