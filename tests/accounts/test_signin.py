"""Signing in: slowed down after repeated failures, audit entries, language and superusers.
(The throttle's limits themselves: test_throttle.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from pingan.accounts.queries import profile_of
from pingan.audit.log import verify
from pingan.audit.models import AuditEntry
from pingan.core import clock

LOGIN = "/accounts/login/"


def _post_login(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_page_has_the_agreed_fields(client, db):
    html = client.get(LOGIN).content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'id="login-submit"' in html


def test_good_password_signs_in_and_is_audited(client, users, password):
    response = _post_login(client, "nurse1", password)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("accounts:profile")).status_code == 200
    entry = AuditEntry.objects.filter(action="login").last()
    assert entry.username == "nurse1" and entry.role == "nurse"


def test_failures_slow_down_the_next_try_instead_of_locking(client, users, password):
    client.cookies["django_language"] = "en"
    with clock.frozen(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) as now:  # 07:30 in China
        for _ in range(5):
            response = _post_login(client, "nurse1", "wrong-password-123")
            assert response.status_code == 200
            assert "id_username" in response.content.decode()
        # The sixth try, even with the right password, waits: its password is not checked.
        sixth = _post_login(client, "nurse1", password)
        html = sixth.content.decode()
        assert sixth.status_code == 429
        assert sixth["Retry-After"] == "2"
        assert "Too many failed sign-ins. Wait 2 seconds, then try again." in html
        assert 'value="nurse1"' in html
        assert "_auth_user_id" not in client.session
        assert client.get(reverse("accounts:profile")).status_code == 302
        now.advance(seconds=2)
        assert _post_login(client, "nurse1", password).status_code == 302

    failures = AuditEntry.objects.filter(action="login_failed", target="user:nurse1")
    assert failures.count() == 5
    throttled = AuditEntry.objects.get(action="login_throttled", target="user:nurse1")
    assert throttled.detail == {"wait_seconds": 2, "scopes": ["account", "account_address"]}
    assert AuditEntry.objects.filter(action="login", username="nurse1").count() == 1
    for entry in AuditEntry.objects.all():
        assert "wrong-password-123" not in str(entry.detail) + entry.target
        assert password not in str(entry.detail) + entry.target
    assert verify() == []


def test_slowed_down_message_in_chinese_by_default(client, users):
    with clock.frozen(datetime(2026, 3, 2, 7, 30)):
        for _ in range(6):
            response = _post_login(client, "cdc1", "wrong-password-123")
    assert response.status_code == 429
    assert "登录失败次数过多。请等待 2 秒后再试。" in response.content.decode()


def test_wait_is_shown_in_minutes_when_long():
    from pingan.accounts.views import wait_message

    with translation.override("en"):
        assert wait_message(1) == "Too many failed sign-ins. Wait 1 second, then try again."
        assert wait_message(119).endswith("Wait 119 seconds, then try again.")
        assert wait_message(121).endswith("Wait 3 minutes, then try again.")
    with translation.override("zh-hans"):
        assert wait_message(900) == "登录失败次数过多。请等待 15 分钟后再试。"


def test_sign_out_is_post_only(client_as):
    client = client_as("nurse")
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302
    assert AuditEntry.objects.filter(action="logout", username="nurse1").exists()


def test_deactivated_account_cannot_sign_in(client, users, password):
    users["nurse"].is_active = False
    users["nurse"].save()
    response = _post_login(client, "nurse1", password)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_language_preference_applied_at_login(client, users, password):
    prefs = profile_of(users["nurse"])
    prefs.language = "en"
    prefs.save()
    response = _post_login(client, "nurse1", password)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "Dosing queue" in html and '<html lang="en">' in html


def test_language_switcher_renders_chinese_and_returns_to_the_page(client_as):
    client = client_as("nurse")
    profile_url = reverse("accounts:profile")
    response = client.post(reverse("set_language"), {"language": "en", "next": profile_url})
    assert response.status_code == 302 and response.url == profile_url
    assert "Dosing queue" in client.get(profile_url).content.decode()

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": profile_url})
    assert response.url == profile_url
    html = client.get(profile_url).content.decode()
    assert "服药队列" in html
    assert "退出" in html


def test_header_language_switch_is_saved_as_the_preference(client_as, users):
    client = client_as("nurse")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert profile_of(users["nurse"]).language == "en"
    assert AuditEntry.objects.filter(action="language_set").count() == 1
    client.post(reverse("set_language"), {"language": "en", "next": "/"})  # unchanged
    assert AuditEntry.objects.filter(action="language_set").count() == 1
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})  # not offered
    assert profile_of(users["nurse"]).language == "en"


def test_header_language_switch_works_signed_out(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_profile_language_form_saves_and_switches(client_as, users):
    client = client_as("clinician")
    response = client.post(reverse("accounts:profile_language"), {"language": "en"})
    assert response.status_code == 302
    assert profile_of(users["clinician"]).language == "en"
    assert "Your account" in client.get(reverse("accounts:profile")).content.decode()
    bad = client.post(reverse("accounts:profile_language"), {"language": "xx"})
    assert bad.status_code == 302
    assert profile_of(users["clinician"]).language == "en"


def test_change_own_password(client_as, users, password):
    client = client_as("nurse")
    new = "a-much-longer-passphrase-42"
    weak = client.post(
        reverse("accounts:profile_password"),
        {"old_password": password, "new_password1": "short", "new_password2": "short"},
    )
    assert weak.status_code == 400
    response = client.post(
        reverse("accounts:profile_password"),
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    users["nurse"].refresh_from_db()
    assert users["nurse"].check_password(new)
    assert client.get(reverse("accounts:profile")).status_code == 200  # still signed in
    assert AuditEntry.objects.filter(action="password_changed", target="user:nurse1").exists()


def test_createsuperuser_gives_a_usable_manager(client, db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first-manager-passphrase")
    call_command("createsuperuser", "--noinput", username="chief", email="c@example.org")
    chief = User.objects.get(username="chief")
    assert chief.groups.filter(name="manager").exists()
    response = _post_login(client, "chief", "first-manager-passphrase")
    assert response.status_code == 302
    assert client.get(reverse("accounts:staff_list")).status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_user_without_role_lands_on_profile(client, db, password):
    User.objects.create_user("norole", password=password)
    _post_login(client, "norole", password)
    response = client.get(reverse("home"))
    assert response.url == reverse("accounts:profile")


@pytest.mark.parametrize("role", ["nurse", "clinician", "cdc"])
def test_police_start_page_is_police_only(client, new_user, role):
    user = new_user(role)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("police_home")).status_code == 403


def test_police_start_page_shows_nothing_clinical(client_as):
    client = client_as("police")
    client.cookies["django_language"] = "en"
    response = client.get(reverse("home"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("police_home")
    assert "File a referral" in html
    for clinical in ("Dosing queue", "Clients", "Urine tests", reverse("dosing:queue")):
        assert clinical not in html
