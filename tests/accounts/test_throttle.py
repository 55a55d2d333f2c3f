"""Sign-in throttling: per account and address, per account, per address, with waits that
double (2, 4, 8 … s) up to a ceiling, on a frozen clock moved by hand. Everything goes
through the real sign-in form, as a browser or a script would."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client, RequestFactory

from pingan.accounts import throttle
from pingan.accounts.models import SignInFailure
from pingan.audit.models import AuditEntry
from pingan.core import clock

LOGIN = "/accounts/login/"
ATTACKER, CLINIC, HOME = "203.0.113.9", "198.51.100.20", "192.0.2.44"
WRONG = "not-the-password-1"


@pytest.fixture
def at_dawn():
    with clock.frozen(datetime(2026, 3, 2, 6, 45)) as frozen:
        yield frozen


def _browser(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def _try(browser: Client, username: str, password: str):
    return browser.post(LOGIN, {"username": username, "password": password})


def _fail_until_refused(browser: Client, username: str, times: int, now) -> list[int]:
    """`times` wrong passwords, each as soon as allowed; returns the waits met on the way."""
    met = []
    failed = 0
    while failed < times:
        response = _try(browser, username, WRONG)
        if response.status_code == 429:
            wait = int(response["Retry-After"])
            met.append(wait)
            now.advance(seconds=wait)
            continue
        assert response.status_code == 200
        failed += 1
    return met


def test_backoff_doubles_after_the_allowance_and_stops_at_the_ceiling():
    limit = throttle.Limit(free=5, cap=900)
    assert [throttle.backoff(n, limit) for n in range(4, 11)] == [0, 2, 4, 8, 16, 32, 64]
    assert throttle.backoff(13, limit) == 512
    assert throttle.backoff(14, limit) == 900
    assert throttle.backoff(10_000, limit) == 900


def test_one_account_from_one_address_waits_ever_longer(users, password, at_dawn):
    attacker = _browser(ATTACKER)
    met = _fail_until_refused(attacker, "nurse1", 16, at_dawn)
    # Five free failures, then 2, 4, 8 … seconds; the account-wide limit waits with it
    # up to its one-minute ceiling, the account-from-this-address one goes on doubling.
    assert met == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert throttle.waits("nurse1", ATTACKER) == {"account_address": 900, "account": 60}
    # Hammering while refused checks no password and makes no wait longer.
    for _ in range(50):
        assert _try(attacker, "nurse1", password).status_code == 429
    assert SignInFailure.objects.filter(username="nurse1").count() == 16
    at_dawn.advance(seconds=899)
    assert _try(attacker, "nurse1", password).status_code == 429
    at_dawn.advance(seconds=1)
    assert _try(attacker, "nurse1", password).status_code == 302


def test_the_owner_elsewhere_waits_at_most_a_short_backoff(users, password, at_dawn):
    """A guesser cannot keep a nurse out before dosing: from her own address she waits at
    most the account-wide ceiling (a minute) after the guesser's latest failure."""
    attacker = _browser(ATTACKER)
    _fail_until_refused(attacker, "nurse1", 16, at_dawn)
    nurse = _browser(CLINIC)
    refused = _try(nurse, "nurse1", password)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    at_dawn.advance(seconds=60)
    assert _try(nurse, "nurse1", password).status_code == 302
    # Her success does not wipe the guesser's record: he still waits his quarter hour.
    assert "account_address" in throttle.waits("nurse1", ATTACKER)
    assert _try(attacker, "nurse1", WRONG).status_code == 429


def test_many_accounts_from_one_address_are_limited_per_address(users, at_dawn):
    """One failure each on twenty usernames (no account limit is reached), then the
    address itself waits: 2, 4, 8 … seconds, whichever username comes next."""
    attacker = _browser(ATTACKER)
    for i in range(20):
        assert _try(attacker, f"guess{i}", WRONG).status_code == 200
    refused = _try(attacker, "nurse1", WRONG)
    assert refused.status_code == 429 and refused["Retry-After"] == "2"
    assert throttle.waits("nurse1", ATTACKER) == {"address": 2}
    at_dawn.advance(seconds=2)
    assert _try(attacker, "guess20", WRONG).status_code == 200
    assert _try(attacker, "guess21", WRONG)["Retry-After"] == "4"
    at_dawn.advance(seconds=4)
    assert _try(attacker, "guess21", WRONG).status_code == 200
    assert _try(attacker, "guess22", WRONG)["Retry-After"] == "8"
    # Another address is not slowed by it.
    assert _try(_browser(HOME), "guess22", WRONG).status_code == 200
    entry = AuditEntry.objects.filter(action="login_throttled").last()
    assert entry.ip == ATTACKER and entry.detail["scopes"] == ["address"]


def test_signing_in_to_ones_own_account_does_not_reset_the_address(users, password, at_dawn):
    attacker = _browser(ATTACKER)
    for i in range(20):
        _try(attacker, f"guess{i}", WRONG)
    at_dawn.advance(seconds=2)
    assert _try(attacker, "police1", password).status_code == 302
    assert _try(_browser(ATTACKER), "guess99", WRONG).status_code == 200
    assert _try(_browser(ATTACKER), "guess98", WRONG).status_code == 429


def test_typos_followed_by_a_success_stop_counting(new_user, password, at_dawn):
    """A clinic behind one address: each nurse's typo is forgotten once she signs in, so
    a busy morning never slows the whole clinic down."""
    for i in range(30):
        new_user("nurse", f"nurse{i + 10}")
        counter = _browser(CLINIC)
        assert _try(counter, f"nurse{i + 10}", WRONG).status_code == 200
        assert _try(counter, f"nurse{i + 10}", password).status_code == 302
    assert not SignInFailure.objects.exists()
    assert throttle.waits("anyone", CLINIC) == {}


def test_usernames_are_counted_without_case(users, at_dawn):
    attacker = _browser(ATTACKER)
    for name in ("nurse1", "NURSE1", "Nurse1", "nUrse1", "nurse1"):
        _try(attacker, name, WRONG)
    assert _try(attacker, "NuRsE1", WRONG).status_code == 429


def test_failures_older_than_a_day_are_forgotten(users, password, at_dawn):
    attacker = _browser(ATTACKER)
    _fail_until_refused(attacker, "nurse1", 10, at_dawn)
    at_dawn.advance(hours=24, seconds=1)
    assert throttle.waits("nurse1", ATTACKER) == {}
    _try(attacker, "nurse1", WRONG)
    assert SignInFailure.objects.count() == 1  # the day-old rows were pruned


def test_odd_usernames_get_the_form_error_not_a_server_error(users, at_dawn):
    browser = _browser(ATTACKER)
    for username in ("nurse\x001", "x" * 5000, "护士一号", " "):
        response = _try(browser, username, WRONG)
        assert response.status_code == 200, username
    assert SignInFailure.objects.filter(username="nurse1").count() == 1


def test_missing_password_is_a_form_error_not_a_failure(users, at_dawn):
    browser = _browser(ATTACKER)
    for _ in range(10):
        response = browser.post(LOGIN, {"username": "nurse1", "password": ""})
        assert response.status_code == 200
    assert not SignInFailure.objects.exists()


@pytest.mark.parametrize(
    ("remote", "counted"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.3", "198.51.100.3"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_address_as_counted(remote, counted):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    assert throttle.address_of(request) == counted


def test_an_attempt_is_written_before_its_password_is_checked(users, at_dawn):
    """Parallel tries see each other: the row exists while the password is checked, and
    goes only when the password was right."""
    attempt = throttle.begin("nurse1", ATTACKER)
    assert not attempt.refused
    assert SignInFailure.objects.filter(username="nurse1", address=ATTACKER).count() == 1
    throttle.succeeded(attempt)
    assert not SignInFailure.objects.exists()
