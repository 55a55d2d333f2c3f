"""No link leads to a refusal: every role, crawled from its home through the demo centre
(tests/crawl.py, GET only, one address per URL pattern), then every distinct address any of
those pages links to, reaches only pages that answer it: never a 403 (a link shown to a role
that may not follow it) and never a server error.

Screens decide which links to show with the same permissions the views check
(`accounts.reach.may_open`, the `allowed_url` and `optional_url` tags); nothing here
loosens a permission, it only checks that no screen offers a door that is locked."""

from __future__ import annotations

import pytest
from django.db import transaction

from crawl import DEMO_INSTANT, browser_for, crawl, demo_logins, demo_site, follow_every_link
from pingan.core import clock


@pytest.fixture(scope="module")
def pages(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), clock.frozen(DEMO_INSTANT):
        with transaction.atomic():
            demo_site()
            browsers = {login: browser_for(login) for login in demo_logins()}
            result = crawl(browsers)
            pages = result.pages + follow_every_link(browsers, result)
            transaction.set_rollback(True)
    return pages


@pytest.mark.django_db
def test_every_role_reaches_a_fair_part_of_the_site(pages):
    reached = {
        login: sum(p.status == 200 for p in pages if p.role == login) for login in demo_logins()
    }
    assert all(n >= 5 for n in reached.values()), reached


@pytest.mark.django_db
def test_no_link_answers_403_or_500(pages):
    bad = [
        f"{p.role}: {p.path} answers {p.status} (linked from {p.found_on or 'the start'})"
        for p in pages
        if p.status == 403 or p.status >= 500
    ]
    assert not bad, "\n".join(bad)


def test_may_open_follows_the_views_permissions(users):
    from django.urls import reverse

    from pingan.accounts.reach import may_open, url_if_allowed

    assert may_open(users["manager"], reverse("takehome:standards"))
    assert not may_open(users["nurse"], reverse("takehome:standards"))
    assert not may_open(users["police"], reverse("dosing:queue"))
    assert url_if_allowed(users["nurse"], "takehome:standards") == ""
    assert url_if_allowed(users["nurse"], "no:such-page") == ""
    assert not may_open(users["nurse"], "/no/such/page/")


@pytest.mark.django_db
def test_the_queue_tells_who_may_not_dose_apart_from_a_clinical_block(pages):
    """A manager sees the queue but does not dose: each waiting row says so, neutrally,
    instead of the red "not now" that means a clinical block."""
    queue = {p.role: p.text for p in pages if p.path == "/dosing/queue/" and p.status == 200}
    assert "无发药权限" in queue["manager"] and "暂不可服药" not in queue["manager"]
    assert "无发药权限" not in queue["nurse"]
