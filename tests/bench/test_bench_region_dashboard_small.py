"""The regional dashboard benchmark at small scale, checked for correctness only (never for
speed: CI machines differ): on a region of 3 centres × 30 clients the dashboard answers the
CDC officer and one centre's manager, the officer's side-by-side table lists every centre,
and the background pass leaves nothing for the first visitor."""

import sys
from pathlib import Path

import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import region_dashboard  # noqa: E402

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The benchmark writes its region straight into SQLite (executemany on the raw
    # connection, PRAGMAs), the embedded database it measures; the page logic it times is
    # the same on PostgreSQL and is tested there by tests/indicators.
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the benchmark builds its region in SQLite"
    ),
]


def test_the_regional_dashboard_answers_on_the_small_region(client, monkeypatch):
    from django.contrib.auth.models import User

    from pingan.core.models import Centre
    from pingan.indicators import freshness, queries

    rows = region_dashboard.run("small", in_place=True)
    timed = [r for r in rows if r["who"] not in ("-", "server")]
    assert len(timed) >= 8
    assert all(r["status"] == 200 for r in timed)
    assert any(r["page"] == "background pass (freshness.warm)" for r in rows)
    # As in the server: after a dose the month shows the pass's figures, marked, and the
    # next pass brings the dose in.
    first = next(r for r in rows if r["page"].endswith("after a dose, in the server"))
    assert "the figures the pass left, marked on the page" in first["note"]
    after = next(r for r in rows if r["page"] == "load after that pass")
    assert after["note"] == "the dose counted, page unmarked"
    # A server just restarted shows the figures its last pass kept, marked.
    restarted = next(r for r in rows if r["page"] == "first load in a server just restarted")
    assert restarted["note"].startswith("the figures its last pass kept, marked on the page")

    # The run ends as a server just restarted: in the server, every column of the
    # side-by-side table comes from the sets the last pass kept, nothing is computed.
    computed = []
    monkeypatch.setattr(queries, "month", lambda *a, **k: computed.append(a))
    monkeypatch.setattr(freshness, "warming", lambda: True)
    client.force_login(User.objects.get(username="bench-cdc"))
    page = client.get("/indicators/").content.decode()
    head = page.split('id="centres-side-by-side"')[1].split("</thead>")[0]
    codes = list(Centre.objects.order_by("code").values_list("code", flat=True))
    assert len(codes) == 3
    assert all(f"<th>{code}</th>" in head for code in codes)
    assert computed == [] and region_dashboard.MARK.decode() in page
