"""The standard's screens show its thresholds as words and a table, never the raw document."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from standard_population import posted

from pingan.takehome.describe import describe
from pingan.takehome.models import Standard
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_kept():
    """A request in English leaves English active in this thread (the locale middleware does
    not switch back): each test here gives the next one the language it found."""
    with translation.override(translation.get_language()):
        yield


RAW = ("{'tiers'", "'adherence_min'", "adherence_min", "positive_free_days")


def _page(web, name: str, language: str, **kwargs) -> str:
    response = web.get(reverse(name), HTTP_ACCEPT_LANGUAGE=language, **kwargs)
    assert response.status_code == 200
    return response.content.decode()


def test_describe_reads_the_pingan_profile():
    with translation.override("en"):
        tiers, closed, admin = describe(default_document("pingan"))
    assert tiers.rows[0] == (
        "2 days from day 90",
        "adherence over 30 days ≥ 90%",
        "no positive urine sample in the last 30 days",
        "at least one negative sample in the last 30 days",
        "—",
    )
    assert tiers.rows[2][0] == "6 days from day 365" and tiers.rows[2][4] == "negative run ≥ 6"
    assert tiers.lines[0].startswith("A client gets the days of the highest tier whose start day")
    assert "up to 3 days at home when the centre is closed" in closed.lines
    assert "a passed police record check, valid for 365 days" in admin.lines


def test_describe_tolerates_a_broken_draft():
    assert describe([1, 2]) == []
    with translation.override("en"):
        parts = describe({"tiers": ["x", {"days": "two", "from_day": 5}], "closed_days": 3})
    assert parts[0].rows[0][0] == "two days from day 5"
    assert parts[1].lines[0] == "no take-home allowance for closed days"


def test_standards_list_is_readable_in_english(client_as):
    page = _page(client_as("manager"), "takehome:standards", "en")
    assert "2 days from day 90" in page
    assert "adherence over 30 days ≥ 90%" in page
    assert "no positive urine sample in the last 30 days" in page
    assert "at least one negative sample in the last 30 days" in page
    assert "negative run ≥ 3" in page
    assert "up to 3 days at home when the centre is closed" in page
    assert "a lockbox issued to the client" in page
    for raw in RAW:
        assert raw not in page


def test_standards_list_is_readable_in_chinese(client_as):
    page = _page(client_as("cdc"), "takehome:standards", "zh-hans")
    assert "自治疗第 90 天起可带药回家 2 天" in page
    assert "近 30 天服药依从性 ≥ 90%" in page
    assert "近 30 天内无阳性尿检" in page
    assert "已为服务对象发放密码药箱" in page and "中心闭馆时最多可带药回家 3 天" in page
    assert "未达到某一档时，降至下一档" in page
    assert "未签署" in page
    for raw in RAW:
        assert raw not in page


def test_signatures_and_us_profile_confirmations_are_listed(client_as, users):
    Standard.objects.create(
        version=2,
        profile="us-2024",
        document=default_document("us-2024"),
        drafted_by=users["manager"],
        drafted_at="2026-01-05T10:00:00+08:00",
        created_by=users["manager"],
    )
    web = client_as("police")
    page = _page(web, "takehome:standards", "en")
    assert "7 days from the start of treatment" in page
    assert "no recent diversion" in page
    assert "Administrative checks" in page and "none" in page


def test_draft_form_previews_and_explains_refusals(client_as):
    web = client_as("manager")
    page = _page(web, "takehome:standard_new", "en")
    assert 'name="tiers-1-adherence_min" value="95"' in page  # the editor is a form
    assert "<textarea" in page  # only for the criteria the clinician confirms
    assert "&quot;adherence_min&quot;" not in page  # no JSON to edit

    document = default_document("pingan")
    document["tiers"][1]["adherence_min"] = 80
    response = web.post(
        reverse("takehome:standard_new"),
        {**posted(document), "preview": "yes"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "The 4-day tier asks less adherence than the 2-day tier." in page
    assert 'name="tiers-1-adherence_min" value="80"' in page  # what was typed stays
    assert Standard.objects.count() == 1

    document["tiers"][1]["adherence_min"] = 95
    document["tiers"][1]["adherence_window"] = 45
    response = web.post(
        reverse("takehome:standard_new"),
        {**posted(document), "preview": "yes"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    page = response.content.decode()
    assert "近 45 天服药依从性 ≥ 95%" in page and Standard.objects.count() == 1

    response = web.post(
        reverse("takehome:standard_new"),
        {**posted(document), "tiers-0-days": "{", "note": "kept"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Not saved." in page
    assert "Enter a whole number, in digits (for example 30)." in page and 'value="kept"' in page
    assert Standard.objects.count() == 1
