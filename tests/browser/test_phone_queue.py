"""Journeys on a phone (390 x 844, the size of the nurses' and officers' handsets): the
nurse doses a client from the queue, the police file a referral, and neither page scrolls
sideways; the client's code stays on one line and the menu folds behind its button."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose
from pingan.labs.models import ScheduledUrineTest
from pingan.referrals.models import PoliceReferral
from pingan.registry.actions import enrol_client

from .conftest import TIMEOUT_MS

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a fresh profile sized and behaving like a phone, Chinese preferred."""
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert inner == PHONE["width"]
    assert width <= inner, f"{page.url}: {width}px wide on a {inner}px screen"


@pytest.mark.django_db(transaction=True)
def test_the_nurse_doses_a_client_from_the_phone_queue(live_server, phone, sign_in, users):
    client = enrol_client(alias="小林", sex="F", birth_year=1986, user=users["clinician"])
    prescribe(client, 60, clock.today(), users["clinician"], "induction dose confirmed",
              override_reason="transferred from another centre on 60 mg")  # fmt: skip
    for n in range(3):  # more clients, so the page is a real list of cards
        other = enrol_client(alias=f"小王{n}", sex="M", birth_year=1980, user=users["clinician"])
        prescribe(other, 40 + n * 5, clock.today(), users["clinician"], "induction",
                  override_reason="transferred from another centre")  # fmt: skip
    ScheduledUrineTest.objects.create(client=client, on=clock.today())
    receive(ensure_default_product(), Decimal("1000"), "B-2026-001", users["manager"])
    code = client.code

    sign_in(phone, users["nurse"])
    phone.goto(f"{live_server.url}{reverse('dosing:queue')}")
    _no_sideways_scroll(phone)

    # The menu is folded behind its button, and opens without scrolling sideways.
    menu = phone.locator("#main-nav")
    toggle = phone.locator("[data-menu-toggle]")
    expect(menu).to_be_hidden()
    toggle.click()
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    _no_sideways_scroll(phone)
    toggle.click()
    expect(menu).to_be_hidden()

    # The counts, the urine badge, and the client's code on one line.
    expect(phone.locator('[data-count="waiting"] strong')).to_have_text("4")
    row = phone.locator(f'tr[data-client="{code}"]')
    expect(row.locator('[data-badge="urine"]')).to_be_visible()
    code_box = row.locator(".code").bounding_box()
    line = phone.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)", row.locator(".code").element_handle()
    )
    assert code_box is not None and code_box["height"] < 1.5 * line, "the code wrapped"

    # Two taps: the button is found by its accessible name, which names the client.
    phone.get_by_role("button", name=f"服药 {code}").tap()
    confirm = row.get_by_role("button", name=f"确认 {code} 服药")
    expect(confirm).to_be_visible()
    _no_sideways_scroll(phone)
    confirm.tap()
    expect(row.locator("[data-state=dosed]")).to_be_visible()
    expect(row).to_have_attribute("data-status", "dosed")
    expect(phone.locator('[data-count="dosed"] strong')).to_have_text("1")  # fetched again
    expect(phone.locator('[data-count="waiting"] strong')).to_have_text("3")
    _no_sideways_scroll(phone)
    dose = Dose.objects.get(client=client, date=clock.today())
    assert (dose.mg, dose.dispenser.username) == (60, "nurse1")


@pytest.mark.django_db(transaction=True)
def test_the_police_file_a_referral_on_the_phone(live_server, phone, sign_in, users):
    sign_in(phone, users["police"])
    phone.goto(f"{live_server.url}{reverse('referrals:file')}")
    _no_sideways_scroll(phone)
    # The day is filled in already (an ISO value, or the phone's date picker shows it empty).
    expect(phone.locator("input[name=referred_on]")).to_have_value(clock.today().isoformat())
    phone.fill("input[name=station]", "红塔派出所")
    phone.fill("input[name=person_name]", "赵六")
    phone.fill("input[name=person_contact]", "139 1234 5678")
    phone.fill("textarea[name=reason]", "本人同意到门诊咨询美沙酮维持治疗")
    with phone.expect_navigation():
        phone.locator("form.stack button[type=submit]").tap()
    assert "/referrals/police/mine/" in phone.url, phone.inner_text("main")
    _no_sideways_scroll(phone)
    referral = PoliceReferral.objects.get()
    assert referral.officer == users["police"] and referral.station == "红塔派出所"
