"""A single-centre database moves into the region: after the migrations that add `centre`,
every client, stock product, lockbox and ward room belongs to the installation's centre, and
no row is lost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from migration_state import migrate_to, state_at

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("core", "0002_closed_day"),
    ("registry", "0002_identity_document_type"),
    ("dosing", "0004_safe_prescribing"),
    ("lockbox", "0003_alert_not_opened"),
    ("inpatient", "0002_ledger_payment_method"),
]
AFTER = [
    ("registry", "0003_client_centre"),
    ("dosing", "0005_product_centre"),
    ("lockbox", "0004_box_centre"),
    ("inpatient", "0003_room_centre"),
]


@pytest.fixture
def before():
    with state_at(BEFORE) as apps:
        yield apps


def _write_records(apps) -> None:
    Client = apps.get_model("registry", "Client")
    for n in range(3):
        Client.objects.create(code=f"PA-{n:06d}", alias=f"A{n}", sex="M", birth_year=1980)
    apps.get_model("dosing", "Product").objects.create(
        name="Methadone", strength_mg_per_ml=Decimal("1.00")
    )
    apps.get_model("lockbox", "Box").objects.create(label="BOX-1", secret="0" * 40)
    apps.get_model("inpatient", "Room").objects.create(name="101", room_type="private")


def _belong_to(apps) -> dict[str, list[str]]:
    return {
        name: sorted(apps.get_model(app, name).objects.values_list("centre__code", flat=True))
        for app, name in [
            ("registry", "Client"),
            ("dosing", "Product"),
            ("lockbox", "Box"),
            ("inpatient", "Room"),
        ]
    }


def test_every_record_joins_the_existing_centre(before):
    Centre = before.get_model("core", "Centre")
    centre = Centre.objects.create(code="C07", name="Old Town")
    Centre.objects.create(code="C08", name="Later")  # not the installation's: the first is
    _write_records(before)
    after = migrate_to(AFTER)
    assert _belong_to(after) == {
        "Client": ["C07"] * 3,
        "Product": ["C07"],
        "Box": ["C07"],
        "Room": ["C07"],
    }
    Client = after.get_model("registry", "Client")
    assert sorted(Client.objects.values_list("code", flat=True)) == [
        "PA-000000",
        "PA-000001",
        "PA-000002",
    ]
    assert Client.objects.filter(centre=centre.pk).count() == 3


def test_records_without_a_centre_get_the_one_centre_current_would_create(before):
    _write_records(before)
    after = migrate_to(AFTER)
    Centre = after.get_model("core", "Centre")
    assert list(Centre.objects.values_list("code", "name")) == [("PA-001", "Ping An Centre")]
    assert _belong_to(after)["Client"] == ["PA-001"] * 3


def test_an_empty_database_creates_no_centre(before):
    after = migrate_to(AFTER)
    assert not after.get_model("core", "Centre").objects.exists()
