"""Months typed into a query string: one range (2000-01 to 2099-12) everywhere a month is
read. Pages show the reason in the reader's language and fall back to a default month;
exports refuse (400) rather than send a file for another month; nothing answers 500.

`?period=9999-12` once failed inside the trend and retention arithmetic (no month after
December 9999), on the dashboard, the evaluation page, the exports and the detox unit's
monthly report."""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.utils import translation

from pingan.core.months import NotAMonth, parse_month

JUNK = [
    "9999-12",
    "0001-01",
    "0000-00",
    "1999-12",
    "2100-01",
    "2026-00",
    "2026-13",
    "2026-3",
    "+2026-03",
    "٢٠٢٦-٠٣",  # Arabic-Indic digits: int() reads them, the format does not allow them
    "2026-03\x00",
    "2026-03-01",
    "-1",
    "²",
    "x" * 5000,
]


def test_the_range_and_its_edges():
    assert parse_month("2000-01").isoformat() == "2000-01-01"
    assert parse_month(" 2099-12 ").isoformat() == "2099-12-01"
    for text in JUNK:
        with pytest.raises(NotAMonth):
            parse_month(text)


def test_the_reason_is_translated_and_short():
    with translation.override("zh-hans"):
        with pytest.raises(NotAMonth) as caught:
            parse_month("9999-12")
    assert "2000-01" in str(caught.value) and "2099-12" in str(caught.value)
    assert "outside" not in str(caught.value)  # the Chinese text, not the English msgid
    with translation.override("en"):
        with pytest.raises(NotAMonth) as caught:
            parse_month("x" * 5000)
    assert len(str(caught.value)) < 120


@pytest.fixture
def signed_in(users):
    """A test client that turns exceptions into answers, as a real server does."""

    def browser(role: str) -> Browser:
        client = Browser(raise_request_exception=False)
        client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
        return client

    return browser


PAGES = [
    ("manager", "/indicators/?period={}"),
    ("police", "/indicators/?period={}"),
    ("manager", "/indicators/evaluation/?from={}"),
    ("manager", "/indicators/evaluation/?to={}"),
    ("manager", "/indicators/evaluation/?from={0}&to={0}"),
    ("manager", "/inpatient/report/?month={}"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "page"), PAGES)
def test_pages_say_why_and_show_a_default_month(signed_in, role, page):
    browser = signed_in(role)
    for text in ("9999-12", "0001-01", "2026-13", "²"):
        response = browser.get(page.format(text), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (page, text, response.status_code)
        body = response.content.decode()
        assert "is outside the months that can be shown" in body or "is not a month" in body
        assert 'class="refusal"' in body


@pytest.mark.django_db
def test_the_message_follows_the_language(signed_in):
    body = signed_in("manager").get("/indicators/?period=9999-12").content.decode()
    assert "9999-12" in body and "is outside the months" not in body  # zh-hans by default


@pytest.mark.django_db
@pytest.mark.parametrize("export", ["/indicators/export.csv", "/indicators/report.pdf"])
def test_exports_refuse_a_bad_month(signed_in, export):
    browser = signed_in("manager")
    for text in ("9999-12", "0001-01", "junk", "2026-13"):
        response = browser.get(f"{export}?period={text}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, (export, text)
        assert response["Content-Type"].startswith("text/plain")
        assert "Content-Disposition" not in response


@pytest.mark.django_db
def test_drilldown_of_a_month_out_of_range_is_404(signed_in):
    browser = signed_in("clinician")
    for text in ("9999-12", "0001-01", "1999-12"):
        assert browser.get(f"/indicators/adherence/{text}/clients/").status_code == 404
