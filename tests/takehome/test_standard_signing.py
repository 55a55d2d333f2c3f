"""Signing is a confirmation on a page that shows the changes and their effect; a version
signed by both sides for a later day is not in force before that day, for the nightly list
and for the dispense re-check alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from standard_population import lowered_and_raised, population

from pingan.audit.labels import detail_fields
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.takehome import actions, nightly, queries
from pingan.takehome.models import StandardSignature
from pingan.takehome.standard import default_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_kept():
    """A request in English leaves English active in this thread (the locale middleware does
    not switch back): each test here gives the next one the language it found."""
    with translation.override(translation.get_language()):
        yield


def _page(draft) -> str:
    return reverse("takehome:standard_sign", args=[draft.external_id])


def _confirmed(draft) -> dict:
    return {"confirm": "yes", "against": str(queries.standard_in_force().version)}


@pytest.fixture
def centre(monday):
    return population()


@pytest.fixture
def draft(centre, users):
    return actions.draft_standard("pingan", lowered_and_raised(), users["manager"])


def test_the_page_shows_the_changes_and_the_counts_before_signing(draft, client_as):
    html = client_as("police").get(_page(draft), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The 2-day tier" in html and "day 90" in html and "→ day 60" in html
    assert "attendance at least" in html and "95%" in html and "→ 97%" in html
    assert "more days at home for 1 client" in html and "fewer days at home for 1 client" in html
    assert 'name="confirm"' in html and "sign for the police" in html


@pytest.mark.parametrize(
    "posted",
    [{}, {"against": "1"}, {"confirm": "no", "against": "1"}, {"confirm": "yes"}],
    ids=["nothing", "not ticked", "ticked no", "without the version seen"],
)
def test_a_post_without_the_confirmation_signs_nothing(draft, client_as, posted):
    web = client_as("cdc")
    response = web.post(_page(draft), posted, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == _page(draft)
    assert not StandardSignature.objects.exists()
    assert not AuditEntry.objects.filter(action="standard_sign").exists()
    page = web.get(_page(draft), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "未签署" in page


def test_a_stale_page_signs_nothing(draft, client_as, users):
    """The version in force changed since the page was read: read the changes again."""
    other = actions.draft_standard("pingan", default_document("pingan"), users["manager"])
    actions.sign_standard(other, users["cdc"])
    actions.sign_standard(other, users["police"])
    response = client_as("cdc").post(_page(draft), {"confirm": "yes", "against": "1"})
    assert response.status_code == 302
    assert not StandardSignature.objects.filter(standard=draft).exists()


def test_both_confirmed_signatures_put_the_version_in_force(draft, client_as):
    for role in ("cdc", "police"):
        response = client_as(role).post(_page(draft), _confirmed(draft))
        assert response.status_code == 302 and response["Location"] == reverse("takehome:standards")
        page = client_as(role).get(_page(draft), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "您这一方已签署此版本。" in page and 'name="confirm"' not in page
    draft.refresh_from_db()
    assert draft.effective_on == clock.today()
    assert queries.standard_in_force() == draft
    seen = AuditEntry.objects.filter(action="standard_sign").order_by("seq").last().detail["seen"]
    assert seen == {"compared_with": 1, "clients": 5, "more": 1, "fewer": 1, "unchanged": 3}
    entry = AuditEntry.objects.filter(action="standard_sign").order_by("seq").last()
    with translation.override("zh-hans"):
        shown = dict(detail_fields(entry.detail, entry.target))
    assert shown["签署前所见"] == (
        "服务对象: 5; 对比的版本: 1; 天数增加的服务对象: 1; 天数减少的服务对象: 1; 天数不变的服务对象: 3"
    )


def _later_draft(users, days_ahead: int, document: dict | None = None):
    start = clock.today() + timedelta(days=days_ahead)
    return actions.draft_standard(
        "pingan", document or lowered_and_raised(), users["manager"], effective_from=start
    )


def test_a_future_day_is_honoured_by_the_nightly_list(centre, users, client_as, monday):
    later = _later_draft(users, 3)
    for role in ("cdc", "police"):
        client_as(role).post(_page(later), _confirmed(later))
    later.refresh_from_db()
    start = clock.today() + timedelta(days=3)
    assert later.effective_on == start
    listing = client_as("manager").get(reverse("takehome:standards"), HTTP_ACCEPT_LANGUAGE="en")
    assert "signed, not yet in force" in listing.content.decode()

    shipped = queries.rules_of(queries.standard_in_force())

    def listed(day, rules_=None) -> dict[str, int]:
        return {d.client: d.allowed_days for d in nightly.eligibility(day, rules_)}

    monday.advance(days=2)  # the day before: the old version
    day = clock.today()
    assert queries.standard_in_force(day).version == 1
    assert listed(day) == listed(day, shipped) and listed(day)["PA-101"] == 0
    page = client_as("clinician").get(reverse("takehome:eligibility")).content.decode()
    assert "PA-101" not in page  # the list shows those allowed take-home

    monday.advance(days=1)  # that day: the new one
    day = clock.today()
    assert day == start and queries.standard_in_force(day) == later
    assert listed(day) == listed(day, queries.rules_of(later)) and listed(day)["PA-101"] == 2
    assert listed(day) != listed(day, shipped)
    page = client_as("clinician").get(reverse("takehome:eligibility")).content.decode()
    assert "PA-101" in page


def test_a_future_day_is_honoured_by_the_dispense_recheck(stable, users, monday, ready_request):
    req = ready_request(stable, 4)
    later_4_day_tier = default_document("pingan")
    later_4_day_tier["tiers"][1]["from_day"] = 300  # PA-8, on day 200, steps down to 2
    later = _later_draft(users, 2, later_4_day_tier)
    actions.sign_standard(later, users["cdc"])
    actions.sign_standard(later, users["police"])
    with translation.override("en"):
        monday.advance(days=1)  # the day before
        assert actions.dispense_lapses(req, clock.today()) == []
        monday.advance(days=1)  # that day
        lapses = actions.dispense_lapses(req, clock.today())
    assert len(lapses) == 1 and "The record now allows 2 days, fewer than 4" in lapses[0]


def test_a_newer_version_is_not_undone_by_an_older_one_dated_later(centre, users):
    """Version 2 signed for day +10, then version 3 signed for today: version 3 stays in
    force when day +10 comes."""
    v2 = _later_draft(users, 10)
    actions.sign_standard(v2, users["cdc"])
    actions.sign_standard(v2, users["police"])
    v3 = actions.draft_standard("pingan", default_document("pingan"), users["manager"])
    actions.sign_standard(v3, users["cdc"])
    actions.sign_standard(v3, users["police"])
    assert queries.standard_in_force(clock.today() + timedelta(days=10)) == v3


def test_a_past_day_is_refused_by_the_action(centre, users):
    from pingan.core.domain import Refusal

    with pytest.raises(Refusal):
        actions.draft_standard(
            "pingan",
            lowered_and_raised(),
            users["manager"],
            effective_from=clock.today() - timedelta(days=1),
        )
