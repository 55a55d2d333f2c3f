"""The indicator SQL on the installation's database reads each source through its table's
own indexes: a source read twice in one query is not copied into a temporary table first
(on SQLite that copy held every dose of the region, searched by client alone, and a
region's month took 24 times as long: docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection

from pingan.core.models import Centre
from pingan.indicators.definitions import INDICATORS, Period
from pingan.indicators.engines import DB_SOURCES, QUERIES, dialect_of, with_db_sources

pytestmark = pytest.mark.django_db

CORE = [ind.id for ind in INDICATORS if ind.source == "core"]
SOURCES = tuple(DB_SOURCES)


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("ind_id", CORE)
@pytest.mark.parametrize("scope", ["region", "centre"])
def test_no_source_is_copied_whole(ind_id, scope):
    centre = Centre.objects.create(code="PLAN-1", name="Plans")
    x = dialect_of(connection)
    sql = with_db_sources(
        x, QUERIES[ind_id](x, Period(2026, 3)), centre.pk if scope == "centre" else None
    )
    plan = _plan(sql)
    # The derived steps of a query may be kept (a small table of the month's clients);
    # the sources, whole tables, never.
    for source in SOURCES:
        if connection.vendor == "sqlite":
            assert f"MATERIALIZE {source}\n" not in plan + "\n", plan
        else:
            assert f"CTE {source}\n" not in plan + "\n", plan
            assert f"CTE Scan on {source} " not in plan, plan


def test_the_lost_to_follow_up_query_finds_a_clients_days_by_the_dose_index():
    x = dialect_of(connection)
    plan = _plan(with_db_sources(x, QUERIES["lost_to_follow_up_rate"](x, Period(2026, 3))))
    if connection.vendor == "sqlite":
        assert "SEARCH dosing_dose USING COVERING INDEX" in plan, plan
        assert "client_id=? AND date>? AND date<?" in plan, plan
