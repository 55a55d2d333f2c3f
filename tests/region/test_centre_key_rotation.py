"""Rotating one centre's signing key: the centre's key changes, no other key does, the old
key is still published for the grace period, and generation 0 is the derivation every
centre had before (so the keys already published and the documents signed stay valid)."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from pingan.audit.keys import public_hex, signing_key
from pingan.audit.log import record
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.domain import Forbidden, Refusal, operator
from pingan.core.models import Centre
from pingan.region import actions, signed
from pingan.region.models import CentreKeyGeneration
from staff_factory import make_user

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "region.md"
MORNING = datetime(2026, 12, 7, 9, 0)
SEED = bytes(range(32))
ATTEMPTS = 8


def key_id_of(code: str) -> str:
    return signed.key_id(signed.centre_key(signing_key(), code).public_key())


def hexes(keys) -> list[str]:
    return [signed.public_bytes(k).hex() for k in keys]


@pytest.fixture
def region(clock_at):
    clock_at(MORNING)
    return {
        code: Centre.objects.create(code=code, name=f"Centre {code}") for code in ("C01", "C02")
    }


def rotate(code: str) -> CentreKeyGeneration:
    with operator():
        return actions.rotate_centre_key(code)


def test_generation_zero_is_the_derivation_every_centre_had_before(region):
    installation = Ed25519PrivateKey.from_private_bytes(SEED)
    # The derivation as it was written before centres could rotate their keys.
    before = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pingan-centre-signing-key/1\nC01"
    ).derive(installation.private_bytes_raw())
    old = Ed25519PrivateKey.from_private_bytes(before).public_key()
    for key in (
        signed.derive_centre_key(installation, "C01"),
        signed.derive_centre_key(installation, "C01", 0),
        signed.centre_key(installation, "C01"),  # no rotation yet: generation 0
    ):
        assert signed.public_bytes(key.public_key()) == signed.public_bytes(old)


def test_the_documented_derivation_per_generation():
    """docs/region.md lists, for the test installation key 00 01 … 1f and centre C01, the
    HKDF info, public key and key id of generations 0 to 2."""
    rows = re.findall(
        r"^\| (\d) \| `([^`]+)` \| `([0-9a-f]{64})` \| `([0-9a-f]{16})` \|$",
        DOC.read_text(encoding="utf-8"),
        re.M,
    )
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    installation = Ed25519PrivateKey.from_private_bytes(SEED)
    for generation, info, public, kid in rows:
        info_bytes = info.replace("\\n", "\n").encode()
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info_bytes).derive(SEED)
        derived = signed.derive_centre_key(installation, "C01", int(generation))
        assert derived.private_bytes_raw() == seed
        assert signed.public_bytes(derived.public_key()).hex() == public
        assert signed.key_id(derived.public_key()) == kid


def test_rotating_one_centre_changes_its_key_alone(region):
    installation_before = signing_key().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    c01, c02 = key_id_of("C01"), key_id_of("C02")
    made = rotate("C01")
    assert (made.centre.code, made.generation, made.created_at) == ("C01", 1, clock.now())
    assert key_id_of("C01") != c01
    assert key_id_of("C02") == c02
    assert signing_key().private_bytes_raw() == installation_before
    assert rotate("C01").generation == 2
    assert signed.current_generation("C01") == 2 and signed.current_generation("C02") == 0
    assert len({c01, key_id_of("C01"), c02}) == 3


def test_a_slip_signed_after_rotation_verifies_with_the_new_key_only(region):
    old_public = signed.centre_key(signing_key(), "C01").public_key()
    rotate("C01")
    new_public = signed.centre_key(signing_key(), "C01").public_key()
    document = {"format": "pingan-guest-slip/1", "home_centre": "C01", "slip_id": "s-1"}
    data = signed.sign(document, signed.centre_key(signing_key(), "C01"))

    assert signed.open_signed(data, signed.KeyList({"C01": (new_public,)}), "home_centre") == (
        document
    )
    with pytest.raises(Refusal) as refused:
        signed.open_signed(data, signed.KeyList({"C01": (old_public,)}), "home_centre")
    assert refused.value.code == "unknown_key"


def test_the_old_key_is_published_until_the_grace_period_ends(region, clock_at):
    installation = signing_key()
    gen0 = signed.derive_centre_key(installation, "C01", 0).public_key()
    gen1 = signed.derive_centre_key(installation, "C01", 1).public_key()
    assert hexes(signed.published_keys(installation, "C01")) == hexes([gen0])

    rotate("C01")  # at MORNING
    assert hexes(signed.published_keys(installation, "C01")) == hexes([gen1, gen0])
    clock_at(MORNING + signed.ROTATION_GRACE)  # exactly at the limit: still published
    assert hexes(signed.published_keys(installation, "C01")) == hexes([gen1, gen0])
    clock_at(MORNING + signed.ROTATION_GRACE + timedelta(microseconds=1))
    assert hexes(signed.published_keys(installation, "C01")) == hexes([gen1])
    # Other centres publish their one key throughout.
    assert len(signed.published_keys(installation, "C02")) == 1


def test_two_rotations_within_the_grace_period_publish_three_keys(region, clock_at):
    installation = signing_key()
    rotate("C01")
    clock_at(MORNING + timedelta(days=10))
    rotate("C01")
    published = hexes(signed.published_keys(installation, "C01"))
    assert published == hexes(
        [signed.derive_centre_key(installation, "C01", g).public_key() for g in (2, 1, 0)]
    )
    clock_at(MORNING + timedelta(days=31))  # generation 0 retired 31 days ago, 1 21 days ago
    assert signed.published_keys(installation, "C01")[1:] == [
        signed.derive_centre_key(installation, "C01", 1).public_key()
    ]


def test_the_command_prints_the_new_key_id_and_public_key(region):
    out = StringIO()
    with translation.override("en"):
        call_command("centres", "rotate-key", "--centre", "C02", stdout=out)
    public = signed.derive_centre_key(signing_key(), "C02", 1).public_key()
    assert out.getvalue() == f"C02\t{signed.key_id(public)}\t{public_hex(public)}\tgeneration 1\n"
    assert key_id_of("C02") == signed.key_id(public)


def test_the_command_refuses_an_unknown_centre(region):
    with translation.override("en"), pytest.raises(CommandError, match="No centre has code C99"):
        call_command("centres", "rotate-key", "--centre", "C99", stdout=StringIO())
    assert not CentreKeyGeneration.objects.exists()
    assert not AuditEntry.objects.filter(action="centre_key_rotated").exists()


@pytest.mark.parametrize("role", ["nurse", "clinician", "police", "cdc"])
def test_only_who_manages_staff_may_rotate(region, role):
    user = make_user(role)
    before = key_id_of("C01")
    with pytest.raises(Forbidden):
        actions.rotate_centre_key(region["C01"], by=user)
    assert key_id_of("C01") == before
    assert not CentreKeyGeneration.objects.exists()
    assert not AuditEntry.objects.filter(action="centre_key_rotated").exists()
    made = actions.rotate_centre_key(region["C01"], by=make_user("manager"))
    assert (made.generation, made.created_by) == (1, "manager1")


def test_the_rotation_is_audited_in_the_centres_chain(region):
    old = key_id_of("C01")
    rotate("C01")
    entry = AuditEntry.objects.get(action="centre_key_rotated")
    assert (entry.target, entry.centre_id) == ("C01", region["C01"].pk)
    assert entry.detail == {"generation": 1, "old_key_id": old, "new_key_id": key_id_of("C01")}
    assert entry.username.startswith("cli:")


def test_one_generation_of_a_centre_exists_once(region):
    rotate("C01")
    with pytest.raises(IntegrityError), transaction.atomic():
        CentreKeyGeneration.objects.create(centre=region["C01"], generation=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CentreKeyGeneration.objects.create(centre=region["C02"], generation=0)


@pytest.mark.django_db(transaction=True)
def test_rotations_at_once_make_each_generation_once():
    """Eight operators rotate one centre's key at the same moment, each on its own
    connection: each rotation makes a generation of its own, numbered without a gap, and
    the audit chain has one entry for each."""
    record("test_setup")  # the audit head exists before the threads race for it
    centre = Centre.objects.create(code="C01", name="Centre C01")
    barrier = threading.Barrier(ATTEMPTS)
    results: list = [None] * ATTEMPTS

    def attempt(i: int) -> None:
        try:
            barrier.wait()
            results[i] = rotate("C01").generation
        except Exception as error:  # reported to the test, which fails on it
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    made = [r for r in results if isinstance(r, int)]
    # Each waits for the one before (the centre's row lock on PostgreSQL, the write lock on
    # SQLite) and makes the next generation; none is refused.
    assert sorted(made) == list(range(1, ATTEMPTS + 1)), results
    stored = CentreKeyGeneration.objects.filter(centre=centre)
    assert sorted(stored.values_list("generation", flat=True)) == sorted(made)
    entries = AuditEntry.objects.filter(action="centre_key_rotated")
    assert sorted(e.detail["generation"] for e in entries) == sorted(made)
    assert len({e.detail["new_key_id"] for e in entries}) == len(made)
