"""The client timeline on the client page: one view of the history, with filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.referrals import actions as referral_actions
from pingan.registry import timeline
from pingan.services import actions as service_actions

pytestmark = pytest.mark.django_db


def test_timeline_gathers_every_kind_and_summarises_doses(users, rich_client):
    staff = users["clinician"]
    partner = referral_actions.add_partner(name="Hospital", kind="art", contact="", user=staff)
    referral_actions.send_care_referral(
        rich_client, kind="art", partner=partner, sent_on=clock.today(), user=staff
    )
    service_actions.hand_out_naloxone(rich_client, handed_on=clock.today(), user=staff)
    service_actions.record_session(
        kind="vocational",
        on=clock.today(),
        staff=staff,
        topic="Cooking",
        group=False,
        codes=[rich_client.code],
        user=staff,
    )
    items = timeline.timeline(rich_client)
    kinds = {i.kind for i in items}
    assert {"episode", "dose", "test", "referral", "service", "naloxone"} <= kinds
    doses = [i for i in items if i.kind == "dose"]
    # One summary line per calendar month that holds a dose, however many doses it has.
    months = {(d.year, d.month) for d in rich_client.doses.values_list("date", flat=True)}
    assert len(doses) == len(months) and rich_client.doses.count() > len(months)
    assert all("137" in i.detail for i in doses)
    assert [i.on for i in items] == sorted((i.on for i in items), reverse=True)
    only_tests = timeline.timeline(rich_client, timeline.parse_kinds(["test", "bogus"]))
    assert {i.kind for i in only_tests} == {"test"} and len(only_tests) == 2
    assert timeline.parse_kinds(["bogus"]) == set(timeline.KINDS)


def test_timeline_on_the_client_page_for_staff_only(client_as, rich_client):
    url = f"/clients/{rich_client.external_id}/"
    page = client_as("nurse").get(url + "?show=dose").content.decode()
    assert 'id="timeline"' in page and "tl-dose" in page and "tl-test" not in page
    cdc = client_as("cdc").get(url)
    assert cdc.status_code == 200 and 'id="timeline"' not in cdc.content.decode()
    assert clock.today() - timedelta(days=1) is not None
