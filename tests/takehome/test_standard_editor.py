"""The standard is edited as a form: each bad input is refused with a message in the
reader's language and nothing is written; a good one is stored as the document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from standard_population import posted
from takehome_factories import MONDAY

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.takehome.models import Standard
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_kept():
    """A request in English leaves English active in this thread (the locale middleware does
    not switch back): each test here gives the next one the language it found."""
    with translation.override(translation.get_language()):
        yield


NEW = "takehome:standard_new"


@pytest.fixture
def manager(client_as, clock_at):
    clock_at(MONDAY)
    return client_as("manager")


def _post(web, data: dict, language: str = "zh-hans"):
    return web.post(reverse(NEW), data, HTTP_ACCEPT_LANGUAGE=language)


def nothing_written() -> None:
    assert Standard.objects.count() == 1  # the shipped default only
    assert not AuditEntry.objects.filter(action="standard_draft").exists()


def test_the_editor_is_a_form_not_json(manager):
    page = manager.get(reverse(NEW), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="tiers-0-days"' in page and 'name="tiers-2-min_negative_run"' in page
    assert 'name="tiers-0-days" value="2"' in page
    assert 'name="document"' not in page and "Thresholds (JSON)" not in page
    us = manager.get(reverse(NEW) + "?profile=us-2001", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="tiers-5-days" value="31"' in us


def test_a_good_draft_is_stored_as_the_document(manager, users):
    document = default_document("pingan")
    document["tiers"][0]["from_day"] = 60
    start = clock.today() + timedelta(days=10)
    response = _post(
        manager, posted(document, note="lower to day 60", effective_from=start.isoformat())
    )
    assert response.status_code == 302
    made = Standard.objects.get(version=2)
    assert made.document == document and made.profile == "pingan"
    assert made.effective_from == start and made.effective_on is None
    assert made.note == "lower to day 60" and made.drafted_by == users["manager"]
    entry = AuditEntry.objects.get(action="standard_draft")
    assert entry.detail["version"] == 2 and entry.detail["effective_from"] == start.isoformat()


def _tier_field(i: int, name: str, value: str) -> dict:
    return {f"tiers-{i}-{name}": value}


def _an_empty_fourth_tier() -> dict:
    return {"tiers-TOTAL_FORMS": "4", "tiers-INITIAL_FORMS": "3"}


def _every_tier_deleted() -> dict:
    return {f"tiers-{i}-DELETE": "on" for i in range(3)}


BAD = {
    "malformed number": (_tier_field(0, "days", "两"), "请输入整数，用数字填写（例如 30）。"),
    "a decimal": (_tier_field(1, "adherence_min", "95.5"), "请输入整数，用数字填写（例如 30）。"),
    "days above the maximum": (
        _tier_field(2, "days", "120"),
        "带药回家最多 90 天：任何标准都不得超过。",
    ),
    "percent above 100": (_tier_field(0, "adherence_min", "120"), "必须在 0 到 100 之间。"),
    "a negative start day": (_tier_field(1, "from_day", "-5"), "必须在 0 到 3650 之间。"),
    "tiers out of order": (
        _tier_field(1, "from_day", "60"),
        "4 天档的起始治疗天数必须晚于 2 天档。",
    ),
    "a criterion left blank": (
        _tier_field(0, "adherence_window", ""),
        "请填写（标有“不检查”的项填 0）。",
    ),
    "an empty tier": (_an_empty_fourth_tier(), "此档为空：请填写各项数字，或勾选“删除”。"),
    "no tier at all": (_every_tier_deleted(), "标准至少需要一档。"),
    "two tiers with the same days": (_tier_field(1, "days", "2"), "有两档都允许 2 天。"),
    "closed-day allowance too large": ({"closed_max_days": "6"}, "闭馆日额度必须小于常规额度。"),
    "record check validity not a number": (
        {"record_check_valid_days": "一年"},
        "请输入整数，用数字填写（例如 30）。",
    ),
    "a day in the past": ({"effective_from": "2026-05-31"}, "生效日期不能早于今天。"),
    "a malformed day": (
        {"effective_from": "2026-13-01"},
        "请按 YYYY-MM-DD 格式填写日期，例如 2027-03-01。",
    ),
    "a day too far ahead": ({"effective_from": "2028-01-01"}, "请选择今天起一年以内的日期。"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
@pytest.mark.parametrize("button", ["save", "preview"])
def test_each_bad_input_is_refused_in_chinese_and_nothing_is_written(manager, case, button):
    change, message = BAD[case]
    response = _post(manager, {**posted(default_document("pingan")), **change, button: "yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "未保存" in page if button == "save" else "此草稿会被拒绝" in page
    nothing_written()


def test_a_bad_input_is_named_in_english_too(manager):
    response = _post(
        manager, {**posted(default_document("pingan")), **_tier_field(2, "days", "120")}, "en"
    )
    assert "At most 90 days at home: no standard may allow more." in response.content.decode()
    nothing_written()


def test_a_tier_is_added_and_removed(manager):
    page = _post(
        manager, {**posted(default_document("pingan")), "add_tier": "yes"}
    ).content.decode()
    assert 'name="tiers-3-days"' in page and 'name="tiers-TOTAL_FORMS" value="4"' in page
    assert "此档为空" not in page  # adding a row is not checking it
    nothing_written()

    response = _post(manager, {**posted(default_document("pingan")), "tiers-2-DELETE": "on"})
    assert response.status_code == 302
    assert [t["days"] for t in Standard.objects.get(version=2).document["tiers"]] == [2, 4]


def test_preview_shows_was_and_now_in_both_languages(manager):
    document = default_document("pingan")
    document["tiers"][0]["from_day"] = 60
    document["closed_days"]["weekdays"] = [6]
    english = _post(manager, {**posted(document), "preview": "yes"}, "en").content.decode()
    assert "The 2-day tier" in english and "from day of treatment" in english
    assert "day 90" in english and "→ day 60" in english
    assert "weekly closing days" in english and "→ Sunday" in english
    chinese = _post(manager, {**posted(document), "preview": "yes"}).content.decode()
    assert "2 天档" in chinese and "自治疗第几天起" in chinese
    assert "第 90 天" in chinese and "→ 第 60 天" in chinese
    assert "→ 周日" in chinese
    nothing_written()


def test_the_list_above_the_form_names_the_tier_and_the_field(manager):
    change = {**_tier_field(0, "days", "两"), **_tier_field(2, "days", "120")}
    page = _post(manager, {**posted(default_document("pingan")), **change}).content.decode()
    assert "第 1 档 · 带药回家天数：请输入整数，用数字填写（例如 30）。" in page
    assert "第 3 档 · 带药回家天数：带药回家最多 90 天：任何标准都不得超过。" in page
    nothing_written()
