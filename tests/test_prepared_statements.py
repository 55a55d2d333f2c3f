"""`core.prepared`: the dose's statements are planned once per PostgreSQL connection and run
as they are elsewhere, with the same answers either way."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pingan.core import prepared
from pingan.core.models import Centre

pytestmark = pytest.mark.django_db

SQL = "SELECT code FROM core_centre WHERE id = %s AND code LIKE '%%'"


def _prepared_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'pa_probe_%%'")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def centre():
    return Centre.objects.create(code="PREP-1", name="Prepared")


def _run(pk, sql=SQL) -> list:
    with connection.cursor() as cursor:
        prepared.execute(cursor, "probe", sql, [pk])
        return cursor.fetchall()


def test_placeholders_become_numbered_and_percent_stays_a_percent():
    assert prepared.numbered("a = %s AND b LIKE '%%x' AND c IN (%s, %s)") == (
        "a = $1 AND b LIKE '%x' AND c IN ($2, $3)"
    )
    assert prepared.numbered("SELECT 1") == "SELECT 1"


def test_the_name_follows_the_sql():
    one = prepared.statement_name("probe", SQL)
    assert one == prepared.statement_name("probe", SQL)
    assert one != prepared.statement_name("probe", SQL + " ORDER BY code")
    assert one.startswith("pa_probe_") and len(one) <= 63  # PostgreSQL's identifier limit


def test_the_answer_is_the_plain_statements(centre):
    with connection.cursor() as cursor:
        cursor.execute(SQL, [centre.pk])
        plain = cursor.fetchall()
    assert plain == [(centre.code,)]
    assert _run(centre.pk) == plain
    assert _run(centre.pk) == plain  # the second time from the kept statement
    assert _run(-1) == []


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_prepares_once_per_connection_and_keeps_it_through_a_rollback(centre):
    # A text no earlier test ran: the connection outlives a test.
    fresh = SQL.replace("SELECT code", f"SELECT code AS c_{uuid.uuid4().hex[:8]}")
    with CaptureQueriesContext(connection) as first:
        _run(centre.pk, fresh)
    with CaptureQueriesContext(connection) as again:
        _run(centre.pk, fresh)
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["EXECUTE"]

    # A statement prepared inside a transaction that rolls back stays on the connection,
    # as the name kept on the Python side says.
    other = fresh + " ORDER BY code"
    with pytest.raises(RuntimeError), transaction.atomic():
        _run(centre.pk, other)
        raise RuntimeError("roll back")
    names = _prepared_names()
    assert prepared.statement_name("probe", fresh) in names
    assert prepared.statement_name("probe", other) in names
    with CaptureQueriesContext(connection) as after:
        assert _run(centre.pk, other) == [(centre.code,)]
    assert [q["sql"].split()[0] for q in after.captured_queries] == ["EXECUTE"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    centre = Centre.objects.create(code="PREP-2", name="Prepared")
    _run(centre.pk)
    connection.close()  # the statement goes with the server connection
    with CaptureQueriesContext(connection) as captured:
        assert _run(centre.pk) == [(centre.code,)]
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["PREPARE", "EXECUTE"]


@pytest.mark.skipif("connection.vendor == 'postgresql'")
def test_other_databases_run_the_statement_as_it_is(centre):
    with CaptureQueriesContext(connection) as captured:
        assert _run(centre.pk) == [(centre.code,)]
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT"]
