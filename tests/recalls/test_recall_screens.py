"""The recall screens: the centre's staff see and count recalls; the police see none of it,
only the bureau's monthly counts with every cell under 5 suppressed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from recall_factories import holder

from pingan.core import clock
from pingan.ops.recall_summary import suppressed
from pingan.recalls import actions
from pingan.recalls.models import Recall, RecallStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def recalled(monday, users):
    return actions.recall_client(holder("PA-R"), users["clinician"])


def test_police_and_cdc_cannot_open_any_recall_screen(recalled, client_as):
    pages = [
        ("get", reverse("recalls:list")),
        ("get", reverse("recalls:return", args=[recalled.external_id])),
        ("post", reverse("recalls:return", args=[recalled.external_id])),
        ("post", reverse("recalls:draw")),
        ("post", reverse("recalls:phoned", args=[recalled.external_id])),
        ("post", reverse("recalls:recall_client", args=[recalled.client.external_id])),
    ]
    for role in ("police", "cdc"):
        browser = client_as(role)
        for method, url in pages:
            answer = getattr(browser, method)(url, {"bottles": "2", "ml": "120"})
            assert answer.status_code == 403, (role, url)
            assert b"PA-R" not in answer.content
    recalled.refresh_from_db()
    assert recalled.status == RecallStatus.OPEN
    assert b'href="/recalls/"' not in client_as("police").get(reverse("home"), follow=True).content


def test_the_nurse_sees_the_list_and_counts_a_return(recalled, client_as):
    browser = client_as("nurse")
    page = browser.get(reverse("recalls:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b'data-recall="PA-R"' in page.content
    assert b'href="/recalls/"' in page.content  # in the menu
    url = reverse("recalls:return", args=[recalled.external_id])
    assert browser.get(url).status_code == 200
    # A bad volume: the form again with the message, nothing written.
    answer = browser.post(url, {"bottles": "2", "ml": "-3"})
    assert answer.status_code == 200
    assert Recall.objects.get().status == RecallStatus.OPEN
    answer = browser.post(url, {"bottles": "2", "ml": "120"})
    assert answer.status_code == 302
    assert Recall.objects.get().status == RecallStatus.RETURNED


def test_the_clinician_draws_from_the_screen_once(monday, client_as):
    holder("PA-1")
    browser = client_as("clinician")
    with override_settings(PINGAN_RECALL_SHARE=Decimal("1")):
        assert browser.post(reverse("recalls:draw")).status_code == 302
        assert browser.post(reverse("recalls:draw")).status_code == 302
    assert Recall.objects.count() == 1


def test_suppression_hides_every_cell_under_five():
    rows = suppressed(
        [
            {"month": date(2026, 5, 1), "recalls": 7, "returned": 5, "incidents": 2},
            {"month": date(2026, 6, 1), "recalls": 4, "returned": 4, "incidents": 0},
            {"month": date(2026, 7, 1), "recalls": 12, "returned": 7, "incidents": 5},
        ]
    )
    assert [(r["recalls"], r["incidents"]) for r in rows] == [(7, None), (None, None), (12, 5)]
    assert all("returned" not in r for r in rows)  # only the two figures leave


def test_the_bureau_sees_monthly_counts_suppressed_and_no_client(monday, users, client_as):
    # May: 6 recalls, 2 of them short (incidents); June (today): 1 recall.
    may = clock.today() - timedelta(days=20)
    for i in range(6):
        recall = actions.recall_client(holder(f"PA-M{i}", ahead=(30, 31)), users["clinician"])
        made = datetime.combine(may, datetime.min.time(), tzinfo=clock.localtime().tzinfo)
        Recall.objects.filter(pk=recall.pk).update(made_at=made + timedelta(hours=10))
        if i < 2:
            actions.record_return(recall, 1, 60, users["nurse"])
        else:
            actions.record_return(recall, 2, 120, users["nurse"])
    actions.recall_client(holder("PA-J"), users["clinician"])
    page = client_as("police").get(reverse("recall_summary"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-month="2026-05"' in text and 'data-month="2026-06"' in text
    may_row = text.split('data-month="2026-05"')[1].split("</tr>")[0]
    assert 'data-figure="recalls">6<' in may_row
    assert 'data-figure="incidents">6<' not in may_row and "&lt;5" in may_row
    june_row = text.split('data-month="2026-06"')[1].split("</tr>")[0]
    assert 'data-figure="recalls">1<' not in june_row and "&lt;5" in june_row
    for code in ("PA-M0", "PA-J"):
        assert code not in text
