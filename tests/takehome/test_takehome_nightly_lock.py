"""On SQLite the nightly list reads without taking the write lock: a nurse recording a dose
while the list runs does not wait for it (nor the list for the nurse)."""

import sqlite3
from datetime import date

import pytest
from django.db import connection

from pingan.registry.models import Client, Episode
from pingan.takehome import nightly
from pingan.takehome.standard import profile_rules

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the write lock is SQLite's")
def test_list_runs_while_another_connection_holds_the_write_lock():
    client = Client.objects.create(code="PA-LOCK", alias="A", sex="M", birth_year=1980)
    Episode.objects.create(client=client, enrolled_on=date(2025, 1, 1))
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.1)
    try:
        other.execute("BEGIN IMMEDIATE")  # a writer in the middle of its transaction
        listed = nightly.nightly_list(date(2026, 6, 1), profile_rules("pingan"))
        assert [row[1] for row in listed.rows] == ["PA-LOCK"]
    finally:
        other.rollback()
        other.close()
