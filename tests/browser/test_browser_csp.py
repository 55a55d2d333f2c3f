"""The Content-Security-Policy in a real browser: every screen works with no inline script,
no inline event handler and no inline style, and the browser reports no violation.

Chromium reports each refused script or style as a `securitypolicyviolation` event; a
listener installed before any page script runs (Playwright's init script, which the policy
does not cover) collects them. The policy must also bite: a handler injected into a page
does not run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.inpatient import actions as inpatient
from pingan.inpatient import billing, rules
from pingan.registry.actions import enrol_client

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
    (e.sourceFile || "") + ":" + e.lineNumber);
});
window.__printed = 0;
window.print = function () { window.__printed += 1; };
"""


def watched(page: Page) -> Page:
    page.add_init_script(WATCH)
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations || []")


@pytest.fixture
def world(users):
    """A client on the dosing queue, stock, and a detox stay with a paid receipt."""
    client = enrol_client(alias="小林", sex="F", birth_year=1986, user=users["clinician"])
    prescribe(
        client,
        60,
        clock.today(),
        users["clinician"],
        "induction dose confirmed",
        override_reason="transferred from another centre on 60 mg",
    )
    receive(ensure_default_product(), Decimal("1000"), "B-2026-001", users["manager"])
    room = inpatient.add_room("A", "shared", ["1", "2"], users["manager"])
    draft = inpatient.create_tariff("2026", clock.today() - timedelta(days=1), users["manager"])
    inpatient.publish_tariff(draft, users["manager"])
    history = rules.UseHistory("heroin", 5, "smoked", "medium", 0)
    admission = inpatient.Admission(
        alias="阿强", sex="M", birth_year=1982, history=history, planned_days=7, return_card_code=""
    )
    stay = inpatient.admit(admission, room.beds.get(label="1"), users["clinician"])
    entry = billing.take_payment(stay, Decimal("100.00"), users["manager"])
    return {"client": client, "stay": stay, "receipt": entry}


@pytest.mark.django_db(transaction=True)
def test_screens_work_under_the_policy_without_violations(
    live_server, new_context, sign_in, users, world
):
    base = live_server.url

    # htmx: the nurse's two-click dose swaps the row in place.
    nurse = sign_in(watched(new_context().new_page()), users["nurse"])
    nurse.goto(f"{base}{reverse('dosing:queue')}")
    assert nurse.evaluate("window.htmx && htmx.config.includeIndicatorStyles") is False
    row = nurse.locator(f'tr[data-client="{world["client"].code}"]')
    row.locator("[data-action=dose]").click()
    row.locator("[data-action=confirm-dose]").click()
    expect(row.locator("[data-state=dosed]")).to_be_visible()
    assert nurse.locator("head style").count() == 0  # htmx inserted no <style>
    assert violations(nurse) == []

    manager = sign_in(watched(new_context().new_page()), users["manager"])
    problems = {}

    # Chart.js draws every trend from the JSON island, from its own file.
    manager.goto(f"{base}{reverse('indicators:dashboard')}")
    charts = manager.locator("canvas[data-series]")
    assert charts.count() > 0
    assert manager.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-series]')).every(c => Chart.getChart(c))"
    )
    problems["dashboard"] = violations(manager)

    # The print buttons work from print.js, on the dispensing log and the stand-alone pages.
    stay, receipt = world["stay"], world["receipt"]
    for name, url in [
        ("log", reverse("dosing:log")),
        ("receipt", reverse("inpatient:receipt", args=[receipt.external_id])),
        ("card", reverse("inpatient:card", args=[stay.external_id])),
    ]:
        manager.goto(f"{base}{url}")
        manager.locator("[data-print]").click()
        assert manager.evaluate("window.__printed") == 1, name
        problems[name] = violations(manager)
    expect(manager.locator("body.return-card .code")).to_have_css("letter-spacing", "5.2px")

    # Screens with forms, tables, the QR-free lists, and the board htmx refreshes.
    for name in [
        "registry:list",
        "registry:enrol",
        "inpatient:board",
        "inpatient:today",
        "inpatient:report",
        "indicators:evaluation",
        "lockbox:list",
        "takehome:index",
        "audit:list",
        "accounts:profile",
    ]:
        manager.goto(f"{base}{reverse(name)}")
        problems[name] = violations(manager)
    manager.goto(f"{base}{reverse('registry:detail', args=[world['client'].external_id])}")
    problems["registry:detail"] = violations(manager)
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.django_db(transaction=True)
def test_an_injected_inline_handler_does_not_run(live_server, new_context, sign_in, users):
    page = sign_in(watched(new_context().new_page()), users["manager"])
    page.goto(f"{live_server.url}{reverse('registry:list')}")
    # As if an alias or a note had slipped unescaped into the page.
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<img src="/static/missing.png" onerror="window.__ran = 1">\''
        " + '<div id=injected style=\"color: rgb(255, 0, 0)\">x</div>')"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("getComputedStyle(document.getElementById('injected')).color") != (
        "rgb(255, 0, 0)"
    )
    found = " ".join(violations(page))
    assert "script-src" in found and "style-src" in found
