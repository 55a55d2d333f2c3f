"""Fixtures shared by every test: a user per role, the centre, and test-only plumbing."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from django.contrib.auth.models import User

from pingan.accounts.roles import ROLES
from pingan.core import clock
from staff_factory import PASSWORD, make_user


@pytest.fixture(autouse=True, scope="session")
def _flush_past_audit_guard():
    """Transactional tests empty every table between tests; the audit table refuses DELETE
    and TRUNCATE by trigger. Let only the test runner's flush through."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from pingan.audit import guard

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        vendor = self.connection.vendor
        with self.connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
            else:
                for sql in guard.SQLITE_REVERSE:
                    cursor.execute(sql)
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                if vendor == "postgresql":
                    cursor.execute("SET session_replication_role = origin")
                else:
                    for sql in guard.SQLITE:
                        cursor.execute(sql)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in English leaves English active in the thread that served it; the next
    test would then build its data (snapshots, messages) in English. Each test starts from
    the installation's default language, whatever the one before it asked for."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def clock_at():
    """`clock_at(datetime(2026, 3, 1, 10, 0))` freezes Ping An's clock (a naive instant is
    the centre's local time) for the rest of the test and returns it, to `advance(...)`.
    Tests built on fixed dates use it, so they pass whatever day the machine thinks it is."""
    with ExitStack() as stack:
        yield lambda instant: stack.enter_context(clock.frozen(instant))


@pytest.fixture
def password() -> str:
    """The password of every user made by `make_user`, for tests that sign in through the
    real login form (conftest modules cannot be imported reliably from test modules)."""
    return PASSWORD


@pytest.fixture
def new_user(db):
    """`new_user("nurse", "nurse2")`: one more user of a role, for journeys with two staff."""
    return make_user


@pytest.fixture
def users(db) -> dict[str, User]:
    """One user per role, keyed by role name."""
    return {role: make_user(role) for role in ROLES}


@pytest.fixture
def client_as(client, users):
    """`client_as("nurse")` returns the Django test client signed in as that role."""

    def sign_in(role: str):
        client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in
