"""Journey: a nurse doses a client from the queue in two clicks; a second nurse whose screen
was loaded before that dose tries the same client and is refused (docs/dosing-rules.md: at most
one dose per client per day, and the second nurse sees why)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from pingan.core import clock
from pingan.dosing.actions import ensure_default_product, prescribe, receive
from pingan.dosing.models import Dose
from pingan.registry.actions import enrol_client


@pytest.fixture
def queue_client(users):
    """A client enrolled today with a 60 mg prescription, and methadone in stock."""
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
    return client


def _row(page, code: str):
    return page.locator(f'tr[data-client="{code}"]')


@pytest.mark.django_db(transaction=True)
def test_nurse_doses_in_two_clicks_and_a_stale_second_screen_is_refused(
    live_server, new_context, sign_in, users, new_user, queue_client
):
    queue_url = f"{live_server.url}{reverse('dosing:queue')}"
    code = queue_client.code

    # Two workstations: both nurses have the client in front of them, "Dose" clicked,
    # before either confirms — the race the database constraint exists for.
    first = sign_in(new_context().new_page(), users["nurse"])
    second = sign_in(new_context().new_page(), new_user("nurse", "nurse2"))
    for page in (first, second):
        page.goto(queue_url)
        _row(page, code).locator("[data-action=dose]").click()
        expect(_row(page, code).locator("[data-action=confirm-dose]")).to_be_visible()
    # A third screen shows the queue as it was, without having clicked anything yet.
    third = sign_in(new_context().new_page(), new_user("nurse", "nurse3"))
    third.goto(queue_url)

    _row(first, code).locator("[data-action=confirm-dose]").click()
    done = _row(first, code)
    expect(done.locator("[data-state=dosed]")).to_be_visible()
    expect(done.locator("[data-action=dose]")).to_have_count(0)
    expect(done).to_have_attribute("data-status", "dosed")
    assert Dose.objects.filter(client=queue_client, date=clock.today()).count() == 1

    # The second nurse's screen still offers to confirm; the server refuses and says why.
    _row(second, code).locator("[data-action=confirm-dose]").click()
    refusal = _row(second, code).locator(".refusal, [role=alert]").first
    expect(refusal).to_be_visible()
    expect(refusal).not_to_be_empty()
    expect(_row(second, code).locator("[data-action=confirm-dose]")).to_have_count(0)
    assert Dose.objects.filter(client=queue_client).count() == 1

    # The third screen's "Dose" is checked afresh: the refusal comes at the first click.
    _row(third, code).locator("[data-action=dose]").click()
    expect(_row(third, code).locator(".refusal, [role=alert]").first).to_be_visible()
    expect(_row(third, code).locator("[data-action=confirm-dose]")).to_have_count(0)

    dose = Dose.objects.get(client=queue_client)
    assert (dose.mg, dose.dispenser.username) == (60, "nurse1")
