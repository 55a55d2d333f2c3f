"""The audit log as a manager reads it: one filter option per action the log holds, each
by its label; details as labelled fields in the reader's language; a bad filter said so."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pingan.audit import queries
from pingan.audit.context import Actor, acting_as
from pingan.audit.labels import detail_fields, humanise, target_label
from pingan.audit.log import record

pytestmark = pytest.mark.django_db


def _write(n: int = 30) -> None:
    with acting_as(Actor("demo", "command")):
        for i in range(n):
            record("dose_record", client_code="PA1", mg=60 + i, capped=False)
            record("login", reason="ok", outcome_note="x", some_new_key="y")


def test_the_action_filter_has_one_option_per_action_not_per_entry():
    _write()
    assert queries.actions() == ["dose_record", "login"]


def test_the_page_offers_each_action_once_by_its_label(client_as):
    _write()
    page = client_as("manager").get(reverse("audit:list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    select = re.search(r'<select name="action".*?</select>', page.content.decode(), re.S)[0]
    assert sorted(re.findall(r'<option value="([^"]*)"', select)) == ["", "dose_record", "login"]


def test_the_user_filter_suggests_who_wrote_to_the_log(client_as):
    _write(1)
    html = client_as("manager").get(reverse("audit:list")).content.decode()
    assert 'list="audit-users"' in html and '<option value="demo">' in html


def test_details_are_labelled_fields_in_the_readers_language(client_as):
    _write(1)
    web = client_as("manager")
    web.cookies["django_language"] = "zh-hans"
    html = web.get(reverse("audit:list")).content.decode()
    assert "<dt>剂量（毫克）</dt><dd>60</dd>" in html
    assert "<dt>已封顶</dt><dd>否</dd>" in html
    assert "<dt>Some new key</dt>" in html  # an unnamed key, humanised
    assert "mg=60" not in html and "some_new_key" not in html
    assert "命令行" in html  # the writer's role, not "command"


def test_unknown_keys_and_codes_stay_legible():
    assert humanise("due_on") == "Due on"
    assert detail_fields({"fields": ["approved_days", "status"]})[0][1] == "approved days, status"
    assert target_label("referrals:mine") == "referrals:mine"
    assert target_label("nosuch.model:abc") == "nosuch.model:abc"


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-13-01"},
        {"date_from": "2026-03-02", "date_to": "2026-03-01"},
        {"action": "no_such_action"},
    ],
)
def test_a_bad_filter_is_said_and_lists_nothing(client_as, query):
    _write(1)
    web = client_as("manager")
    web.cookies["django_language"] = "en"
    response = web.get(reverse("audit:list"), query)
    html = response.content.decode()
    assert response.status_code == 400
    assert "The filter could not be applied" in html
    assert "No entries match." in html


def test_an_indicator_drilldown_names_the_indicator(client_as):
    from pingan.indicators.definitions import INDICATORS

    indicator = INDICATORS[0]
    with acting_as(Actor("clinician1", "clinician")):
        record("indicators.drilldown", target=f"{indicator.id} 2026-10", count=3)
    web = client_as("manager")
    web.cookies["django_language"] = "zh-hans"
    html = web.get(reverse("audit:list")).content.decode()
    from django.utils import translation

    with translation.override("zh-hans"):
        assert f"{indicator.label} 2026-10" in html
