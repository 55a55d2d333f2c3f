"""Requests the fuzz once answered with a server error, kept as plain examples so each stays
fixed whatever the generator happens to try on a given run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as Browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Browser(raise_request_exception=False)


@pytest.mark.parametrize("target", ["0", "home", "accounts:profile", "x.y", "//evil.example/"])
def test_a_next_that_is_not_a_path_goes_to_the_start_page(browser, users, target):
    """redirect() reads a bare word as the name of a view: "?next=0" on the second-factor
    step was a NoReverseMatch."""
    browser.force_login(users["nurse"], backend="django.contrib.auth.backends.ModelBackend")
    answer = browser.get("/accounts/verify/", {"next": target})
    assert answer.status_code == 302
    assert answer["Location"] == "/"


@pytest.mark.parametrize(
    "url", ["/dosing/stock/reconcile/?on={}", "/dosing/stock/log/?date={}"], ids=["on", "date"]
)
def test_a_day_out_of_range_shows_today(browser, users, url):
    """The end of 9999-12-31 is a midnight that does not exist: an OverflowError."""
    browser.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    for text in ("9999-12-31", "0001-01-01", "2026-02-30", "²"):
        assert browser.get(url.format(text)).status_code == 200, text


def test_the_day_range():
    from pingan.core.months import NotADay, parse_day

    assert parse_day("2000-01-01").isoformat() == "2000-01-01"
    assert parse_day(" 2099-12-31 ").isoformat() == "2099-12-31"
    for text in ("9999-12-31", "1999-12-31", "2026-02-30", "2026-1-1", "20260101", "٢٠٢٦-٠١-٠١"):
        with pytest.raises(NotADay):
            parse_day(text)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/clients/", {"q": "a\x00b"}),
        ("/dosing/queue/", {"q": "\x00"}),
        ("/audit/list/", {"a\x00": "1"}),
        ("/accounts/staff/a%00b/", {}),
    ],
)
def test_a_nul_character_in_an_address_is_refused_before_any_view(browser, users, url, query):
    """PostgreSQL refuses NUL in any text it compares ("text fields cannot contain NUL"):
    a search for it was a server error there and an empty list on SQLite."""
    browser.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    answer = browser.get(url, query, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "Bad request" in answer.content.decode()


def test_a_nul_character_in_a_form_field_is_a_form_error(browser, users):
    browser.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    answer = browser.post("/clients/enrol/", {"alias": "a\x00b", "sex": "M", "birth_year": "1980"})
    assert answer.status_code == 200
    assert answer.context["form"].errors


def test_the_box_api_reads_its_own_body(browser):
    """The NUL check leaves /api/ bodies alone: the box's signature covers the raw bytes,
    and the API answers for itself (a box id with NUL is not a box id: 400)."""
    raw = b'{"box": "PA\\u0000X", "seq": 1, "events": []}'
    answer = browser.post("/api/lockbox/events", raw, content_type="application/json")
    assert answer.status_code == 400
    assert "box" in answer.json()["detail"]


def test_an_amount_no_column_can_hold_is_refused():
    """Decimal("1e400") parses, then quantize() raised InvalidOperation on the payment form."""
    from pingan.core.domain import Refusal
    from pingan.inpatient.rules import check_amount

    for text in ("1e400", "99999999999", "-1e400", "Infinity", "NaN"):
        with pytest.raises(Refusal):
            check_amount(text)
    assert str(check_amount("9999999999.99")) == "9999999999.99"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores a label of any length")
def test_a_bed_label_longer_than_its_column_is_a_400_on_postgresql(browser, users):
    from pingan.inpatient.models import Room

    browser.force_login(users["manager"], backend="django.contrib.auth.backends.ModelBackend")
    answer = browser.post(
        "/inpatient/rooms/",
        {"name": "Z", "room_type": "shared", "beds": "1, " + "9" * 30},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "Nothing was saved" in answer.content.decode()
    assert not Room.objects.filter(name="Z").exists()
