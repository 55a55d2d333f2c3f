"""Identity fields never reach the database file in clear text (docs/confidentiality.md and docs/architecture.md, Reliability)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from pingan.core.crypto import keyring
from pingan.registry import actions
from pingan.registry.actions import IdentityInput

NAME = "Qiu Zhiyuan-Distinctive 邱志远"
NATIONAL_ID = "11010519491231002X"
PHONE_LOCAL = "13912345678"
PHONE_E164 = "+8613912345678"
ADDRESS = "Unlikely Lane 4242, 长宁区"


@pytest.mark.django_db(transaction=True)
def test_identity_absent_from_raw_database(users):
    client = actions.enrol_client(
        alias="Visible Alias",
        sex="M",
        birth_year=1949,
        user=users["clinician"],
        identity=IdentityInput(
            name=NAME, national_id=NATIONAL_ID, phone=PHONE_LOCAL, address=ADDRESS
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, national_id, phone, address FROM registry_identity WHERE client_id = %s",
            [client.pk],
        )
        stored = cursor.fetchone()
    prefix = keyring().current_id + ":"
    assert all(value.startswith(prefix) for value in stored)

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL has no single database file; the raw columns are checked above")

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = Path(connection.settings_dict["NAME"]).read_bytes()
    for secret in (NAME, NATIONAL_ID, PHONE_LOCAL, PHONE_E164, ADDRESS, "邱志远", "Unlikely Lane"):
        assert secret.encode("utf-8") not in raw, secret
    assert b"Visible Alias" in raw  # the file really is the one written to
    for ciphertext in stored:
        assert ciphertext.encode("ascii") in raw
