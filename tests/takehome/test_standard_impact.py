"""The impact preview is the nightly list run under both versions: its counts and its
per-client before/after are those of two direct nightly runs. Centre staff see the clients by
programme code; the police (and the CDC) see the counts only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from standard_population import EXPECTED, lowered_and_raised, population, posted
from takehome_factories import MONDAY

from pingan.core import clock
from pingan.takehome import actions, impact, nightly, queries
from pingan.takehome.standard import parse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_kept():
    """A request in English leaves English active in this thread (the locale middleware does
    not switch back): each test here gives the next one the language it found."""
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def centre(clock_at):
    clock_at(MONDAY)
    return population()


def test_impact_equals_two_nightly_runs(centre):
    day = clock.today()
    in_force = queries.rules_of(queries.standard_in_force(day))
    draft = parse("pingan", lowered_and_raised())
    found = impact.impact(day, in_force, draft)

    before = {d.client: d.allowed_days for d in nightly.eligibility(day, in_force)}
    after = {d.client: d.allowed_days for d in nightly.eligibility(day, draft)}
    assert before == {code: was for code, (was, _now) in EXPECTED.items()}
    assert after == {code: now for code, (_was, now) in EXPECTED.items()}

    assert [(c.code, c.before, c.after) for c in found.more] == [
        (code, before[code], after[code]) for code in sorted(before) if after[code] > before[code]
    ]
    assert [(c.code, c.before, c.after) for c in found.fewer] == [
        (code, before[code], after[code]) for code in sorted(before) if after[code] < before[code]
    ]
    assert found.unchanged == sum(1 for code in before if after[code] == before[code])
    assert found.counts == {
        "clients": 5,
        "more": 1,
        "fewer": 1,
        "unchanged": 3,
        "started": 1,
        "stopped": 0,
    }


def test_a_version_that_changes_nothing_moves_no_client(centre):
    day = clock.today()
    rules_ = queries.rules_of(queries.standard_in_force(day))
    found = impact.impact(day, rules_, rules_)
    assert found.counts["unchanged"] == 5 and not found.more and not found.fewer


def _draft(users):
    return actions.draft_standard("pingan", lowered_and_raised(), users["manager"], "day 60")


def test_centre_staff_see_the_clients_by_code(centre, users, client_as):
    web = client_as("manager")
    editor = web.get(reverse("takehome:standard_new"), HTTP_ACCEPT_LANGUAGE="en")
    assert editor.status_code == 200
    _draft(users)
    page = web.post(
        reverse("takehome:standard_new"),
        {**posted(lowered_and_raised()), "preview": "yes"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "more days at home for 1 client" in page
    assert "fewer days at home for 1 client" in page and "unchanged for 3 clients" in page
    assert "PA-101" in page and "PA-103" in page
    assert "PA-102" not in page  # unchanged clients are counted, not listed


@pytest.mark.parametrize("role", ["police", "cdc"])
def test_signers_outside_the_centre_see_counts_only(centre, users, client_as, role):
    draft = _draft(users)
    page = client_as(role).get(
        reverse("takehome:standard_sign", args=[draft.external_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "more days at home for 1 client" in html and "fewer days at home for 1 client" in html
    assert "unchanged for 3 clients" in html
    assert "PA-1" not in html  # no programme code at all
    assert 'class="impact-clients"' not in html


def test_signers_read_the_counts_in_chinese(centre, users, client_as):
    draft = _draft(users)
    html = (
        client_as("police")
        .get(
            reverse("takehome:standard_sign", args=[draft.external_id]),
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        .content.decode()
    )
    assert "1 名服务对象可带药回家的天数增加" in html
    assert "3 名服务对象不变" in html
    assert "PA-1" not in html
