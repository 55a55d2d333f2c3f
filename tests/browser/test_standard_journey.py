"""Journey: the manager drafts a new take-home standard in the form (a bad number is refused
in Chinese, then corrected), previews what it changes and what it would do to today's
clients, saves it; the police officer and the CDC officer each read the changes and the
counts (no client) on the signing page, are refused without the confirmation, confirm and
sign; the new version is in force."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from pingan.takehome import queries
from pingan.takehome.models import Standard

# The take-home tests' builders live beside them, in a folder that is not a package.
sys.path.insert(0, str(Path(__file__).parents[1] / "takehome"))
from standard_population import population  # noqa: E402
from takehome_factories import MONDAY  # noqa: E402


@pytest.fixture
def centre(clock_at):
    clock_at(MONDAY)
    return population()


def _sign(page, url: str, side: str) -> None:
    page.goto(url)
    expect(page.locator("#standard-changes")).to_contain_text("2 天档")
    counts = page.locator("#standard-impact")
    expect(counts.locator("[data-count=more]")).to_contain_text("1 名服务对象")
    expect(counts.locator("[data-count=fewer]")).to_contain_text("1 名服务对象")
    assert "PA-1" not in page.content()  # counts only, never a programme code
    with page.expect_navigation():
        page.locator("#standard-confirm button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("未签署")
    page.locator("#standard-confirm input[name=confirm]").check()
    expect(page.locator("#standard-confirm")).to_contain_text(side)
    with page.expect_navigation():
        page.locator("#standard-confirm button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已签署")


@pytest.mark.django_db(transaction=True)
def test_a_lowered_threshold_is_drafted_previewed_and_signed_by_both_sides(
    live_server, new_context, sign_in, users, centre
):
    manager = sign_in(new_context().new_page(), users["manager"])
    manager.goto(f"{live_server.url}{reverse('takehome:standard_new')}")
    editor = manager.locator("#standard-editor")
    editor.locator("input[name=tiers-0-from_day]").fill("60")
    editor.locator("input[name=tiers-2-days]").fill("120")
    with manager.expect_navigation():
        editor.locator("button[name=preview]").click()
    expect(manager.locator("#standard-editor")).to_contain_text("带药回家最多 90 天")
    assert Standard.objects.count() == 1

    editor = manager.locator("#standard-editor")
    editor.locator("input[name=tiers-2-days]").fill("6")
    editor.locator("input[name=tiers-1-adherence_min]").fill("97")
    editor.locator("input[name=tiers-2-adherence_min]").fill("97")
    with manager.expect_navigation():
        editor.locator("button[name=preview]").click()
    expect(manager.locator("#standard-changes")).to_contain_text("→ 第 60 天")
    impact = manager.locator("#standard-impact")
    expect(impact.locator("[data-count=more]")).to_contain_text("1 名服务对象")
    expect(impact.locator("table.impact-clients")).to_contain_text("PA-101")
    expect(impact.locator("table.impact-clients")).to_contain_text("PA-103")
    with manager.expect_navigation():
        manager.locator("#standard-editor button[name=save]").click()
    draft = Standard.objects.get(version=2)
    assert draft.document["tiers"][0]["from_day"] == 60

    url = f"{live_server.url}{reverse('takehome:standard_sign', args=[draft.external_id])}"
    _sign(sign_in(new_context().new_page(), users["police"]), url, "代表公安签署")
    assert queries.standard_in_force().version == 1  # one side is not enough
    _sign(sign_in(new_context().new_page(), users["cdc"]), url, "代表卫生部门")
    assert queries.standard_in_force() == draft
