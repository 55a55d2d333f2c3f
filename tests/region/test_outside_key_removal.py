"""A key of a centre outside the installation can be removed from the key list (after that
centre rotated a leaked key): slips signed with it are then refused as signed by an unknown
key. Removing a key that is not listed is refused and writes nothing; only a manager may."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.utils import translation

from guest_support import signed_slip
from pingan.audit.models import AuditEntry
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.dosing import actions, outside_keys
from pingan.dosing.models import OutsideCentreKey, VisitingGuest
from pingan.region import signed
from staff_factory import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def host(clock_at):
    """Centre C02 of this installation, trusting two keys of C01 (outside it)."""
    clock_at(datetime(2026, 5, 4, 9, 0))
    centre = Centre.objects.create(code="C02", name="Host Centre")
    actions.receive(actions.product_of(centre), 1000, "G-1", make_user("manager", "m2"))
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    for key in (old, new):
        hex_key = signed.public_bytes(key.public_key()).hex()
        call_command("guest", "keys", "add", "--centre", "C01", "--name", "Home", "--key", hex_key)
    return {"old": old, "new": new}


def slip_file(tmp_path, key) -> str:
    path = tmp_path / f"{uuid.uuid4()}.json"
    path.write_bytes(signed_slip(key))
    return str(path)


def test_a_removed_key_no_longer_signs_for_its_centre(host, tmp_path):
    old_id = signed.key_id(host["old"].public_key())
    out = call_command("guest", "keys", "remove", "--centre", "C01", "--key-id", old_id)
    assert out is None
    assert list(OutsideCentreKey.objects.values_list("key_id", flat=True)) == [
        signed.key_id(host["new"].public_key())
    ]
    entry = AuditEntry.objects.get(action="guest_key_removed")
    assert entry.target == "C01" and old_id in str(entry.detail)
    with translation.override("en"), pytest.raises(CommandError, match="not in the region"):
        call_command("guest", "import", slip_file(tmp_path, host["old"]), "--centre", "C02")
    assert not VisitingGuest.objects.exists()
    call_command("guest", "import", slip_file(tmp_path, host["new"]), "--centre", "C02")
    assert VisitingGuest.objects.count() == 1


def test_removing_a_key_not_listed_is_refused_and_writes_nothing(host):
    before = (OutsideCentreKey.objects.count(), AuditEntry.objects.count())
    other_id = signed.key_id(host["old"].public_key())
    with translation.override("en"):
        with pytest.raises(CommandError, match="No key 0000000000000000 is listed"):
            call_command(
                "guest", "keys", "remove", "--centre", "C01", "--key-id", "0000000000000000"
            )
        with pytest.raises(CommandError, match="for centre C09"):
            call_command("guest", "keys", "remove", "--centre", "C09", "--key-id", other_id)
    assert (OutsideCentreKey.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize("role", ["nurse", "clinician", "police", "cdc"])
def test_only_a_manager_removes_a_key(host, role):
    key_id = signed.key_id(host["old"].public_key())
    with pytest.raises(Refusal):
        outside_keys.remove_key("C01", key_id, by=make_user(role, f"{role}-x"))
    assert OutsideCentreKey.objects.count() == 2
    outside_keys.remove_key("C01", key_id, by=make_user("manager", "m-x"))
    assert OutsideCentreKey.objects.count() == 1
