"""The bed board as a grid by room: every bed a tile, a stay past its planned days
flagged in words (not only in colour), one ending today said so."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from inpatient_factories import admission, tariff, unit

from pingan.core import clock
from pingan.inpatient import actions, queries

pytestmark = pytest.mark.django_db


def test_overdue_stays_are_flagged_in_words(client_as, users, clock_at):
    clock_at(datetime(2026, 11, 20, 9, 0))
    beds = unit(users["manager"])
    tariff(users["manager"], clock.today() - timedelta(days=30))
    overdue = actions.admit(admission(3), beds["shared"][0], users["clinician"])
    due = actions.admit(admission(5), beds["shared"][1], users["clinician"])
    clock_at(datetime(2026, 11, 25, 9, 0))  # 5 nights: overdue by 2, the other ends today

    rooms, counts = queries.bed_board()
    rows = {r.stay.pk: r for room in rooms for r in room.beds if r.stay}
    assert rows[overdue.pk].overdue_days == 2 and rows[due.pk].overdue_days == 0
    assert rows[due.pk].due_today and counts["overdue"] == 1

    response = client_as("nurse").get(reverse("inpatient:board"))
    page = response.content.decode()
    assert 'class="bed-rooms"' in page and 'data-room="S"' in page and 'data-room="P"' in page
    assert 'data-bed="S-1" data-status="occupied" data-overdue="2"' in page
    assert "已超过计划住院 2 天" in page  # "past planned stay by 2 days", in words
    assert "计划住院今天到期" in page  # "planned stay ends today"
    assert 'data-bed="P-1" data-status="free"' in page
    assert 'data-count="overdue">1<' in page
