"""Journey: the interface switches to Simplified Chinese and back from the header."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import Page


def _switch(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.click(f"form.lang button[value={code}]")
    assert page.locator("html").get_attribute("lang") == code


@pytest.mark.django_db(transaction=True)
def test_language_switcher_changes_the_navigation_and_back(page, sign_in, users):
    with translation.override("zh-hans"):
        chinese = translation.gettext("Dosing queue")
    assert chinese != "Dosing queue", "the navigation label has no Chinese translation"
    sign_in(page, users["nurse"])
    nav = page.locator("nav.main")

    # Whatever language the account starts in, go to English first so each switch is seen.
    _switch(page, "en")
    assert "Dosing queue" in nav.inner_text()

    _switch(page, "zh-hans")
    assert chinese in nav.inner_text()
    assert "Dosing queue" not in nav.inner_text()

    _switch(page, "en")
    assert "Dosing queue" in nav.inner_text()
    assert chinese not in nav.inner_text()
