"""The drop-out worklist lists exactly the clients in treatment past the threshold on a
fixed date; outreach is recorded with its outcome and next step, a future or incomplete
record is refused in the user's language with nothing written, and the police see none."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden, Refusal
from pingan.dosing.models import Dose
from pingan.registry.models import Client, Episode
from pingan.services import outreach
from pingan.services.models import Outreach, OutreachSettings

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 10)


def _client(code: str, enrolled_back: int, dosed_back: list[int], discharged_back=None):
    client = Client.objects.create(code=code, alias=f"alias {code}", sex="M", birth_year=1980)
    Episode.objects.create(
        client=client,
        enrolled_on=ON - timedelta(days=enrolled_back),
        discharged_on=ON - timedelta(days=discharged_back) if discharged_back else None,
    )
    for back in dosed_back:
        Dose.objects.create(
            client=client,
            date=ON - timedelta(days=back),
            mg=60,
            mg_in_clinic=60,
            strength_mg_per_ml=1,
            volume_ml=60,
            given_at=clock.now(),
            kind="takehome" if code == "TH" else "clinic",
        )
    return client


@pytest.fixture
def centre(clock_at):
    clock_at(datetime(2026, 6, 10, 10, 0))
    _client("OK", 100, [1, 2, 3])  # dosed yesterday: 0 missed
    _client("TODAY", 100, [0, 5])  # dosed today: the given day counts as dosed
    _client("ONE", 100, [2, 3])  # 1 missed
    _client("TWO", 100, [3, 4])  # 2 missed: listed
    _client("LONG", 100, [20])  # 19 missed: listed first
    _client("NEW2", 2, [])  # enrolled 2 days ago, never dosed: 2 missed, listed
    _client("NEW1", 1, [])  # enrolled yesterday: 1 missed
    _client("TH", 100, [0, 1, 2])  # take-home bottles cover the days
    _client("GONE", 100, [30], discharged_back=5)  # discharged: not in treatment
    _client("LATER", 0, [])  # enrolled today


def test_the_worklist_lists_exactly_the_clients_past_the_threshold(centre):
    assert OutreachSettings.current().missed_days == 2
    rows = outreach.worklist(ON)
    assert [(r.client.code, r.missed) for r in rows] == [("LONG", 19), ("NEW2", 2), ("TWO", 2)]
    assert [r.client.code for r in outreach.worklist(ON, threshold=3)] == ["LONG"]
    # 18 days earlier LONG had come the day before, and GONE was still in treatment.
    earlier = {r.client.code: r.missed for r in outreach.worklist(ON - timedelta(days=18))}
    assert "LONG" not in earlier and earlier["GONE"] == 11


def test_outreach_recorded_and_bad_input_refused(centre, users):
    two = Client.objects.get(code="TWO")
    with translation.override("en"):
        with pytest.raises(Refusal, match="in the future"):
            outreach.record_outreach(
                two, ON + timedelta(days=1), "call", "reached", "x", users["nurse"]
            )
        with pytest.raises(Refusal) as refused:
            outreach.record_outreach(two, "yesterday", "fax", "", " ", users["nurse"])
        assert len(refused.value.messages) == 4
        with pytest.raises(Forbidden):
            outreach.record_outreach(two, ON, "call", "reached", "x", users["police"])
    assert not Outreach.objects.exists()
    outreach.record_outreach(two, ON, "call", "reached", "comes tomorrow", users["nurse"])
    (row,) = [r for r in outreach.worklist(ON) if r.client.code == "TWO"]
    assert [(o.kind, o.outcome, o.next_step) for o in row.outreach] == [
        ("call", "reached", "comes tomorrow")
    ]
    assert AuditEntry.objects.filter(action="outreach_record", client_code="TWO").count() == 1


def test_screens_nurse_records_police_see_nothing(centre, client_as, users):
    two = Client.objects.get(code="TWO")
    browser = client_as("nurse")
    url = reverse("services:outreach", args=[two.external_id])
    future = (ON + timedelta(days=1)).isoformat()
    response = browser.post(
        url,
        {"on": future, "kind": "visit", "outcome": "reached", "next_step": "x"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    assert response.status_code == 200 and "未来" in response.content.decode()
    assert not Outreach.objects.exists()
    page = browser.get(reverse("services:dropouts"), {"on": ON.isoformat()}).content.decode()
    assert 'data-dropout="TWO"' in page and 'data-dropout="ONE"' not in page
    browser.post(
        url, {"on": ON.isoformat(), "kind": "visit", "outcome": "not_reached", "next_step": "call"}
    )
    assert Outreach.objects.get().kind == "visit"

    clinician = client_as("clinician")
    worklist = clinician.get(reverse("dosing:worklist")).content.decode()
    assert 'data-dropout="LONG"' in worklist

    police = client_as("police")
    assert police.get(reverse("services:dropouts")).status_code == 403
    assert police.post(url, {"on": ON.isoformat()}).status_code == 403

    manager = client_as("manager")
    manager.post(reverse("services:dropout_settings"), {"missed_days": "3"})
    assert OutreachSettings.current().missed_days == 3
    manager.post(reverse("services:dropout_settings"), {"missed_days": "0"})
    assert OutreachSettings.current().missed_days == 3
