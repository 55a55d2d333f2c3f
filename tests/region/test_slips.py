"""Guest slips and dose returns: the signature proves who wrote the file and that no byte
changed; the slip's days, host and timeliness are checked before anything trusts it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pingan.core.domain import Refusal
from pingan.region import signed, slips

HOME, HOST = "C01", "C02"
NOW = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
TODAY = date(2026, 12, 2)


@pytest.fixture
def home_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def host_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keys(home_key, host_key):
    listing = {
        HOME: [signed.public_bytes(home_key.public_key()).hex()],
        HOST: [signed.public_bytes(host_key.public_key()).hex()],
    }
    return signed.KeyList.from_hex(listing)


def a_slip(**changes) -> slips.GuestSlip:
    fields = dict(
        slip_id="6f1c0b7e-0000-4000-8000-000000000001",
        home_centre=HOME,
        host_centre=HOST,
        client_code="C01-000017",
        valid_from=TODAY,
        valid_to=TODAY + timedelta(days=6),
        dose_mg=70,
        last_dose_on=TODAY - timedelta(days=1),
        takehome="none",
        holds=(),
        issued_at=NOW,
    )
    fields.update(changes)
    return slips.GuestSlip(**fields)


def read(data, keys, now=NOW, today=TODAY, host=HOST):
    return slips.read_slip(data, keys, host, now, today)


def code_of(call) -> str:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value.code


def test_a_signed_slip_reads_back_equal(home_key, keys):
    slip = a_slip(photo_jpeg_b64="/9j/4AAQ", holds=("missed_doses",))
    assert read(signed.sign(slip.document(), home_key), keys) == slip


def test_canonical_bytes_do_not_depend_on_key_order():
    assert signed.canonical({"b": 1, "a": "平安"}) == signed.canonical({"a": "平安", "b": 1})
    assert signed.canonical({"a": "平安"}) == '{"a":"平安"}'.encode()


def test_one_changed_byte_anywhere_in_the_document_is_refused(home_key, keys):
    data = signed.sign(a_slip().document(), home_key)
    changed = data.replace(b'"dose_mg":70', b'"dose_mg":90')
    assert changed != data
    assert code_of(lambda: read(changed, keys)) == "tampered"


def test_every_single_byte_flip_inside_the_document_is_refused(home_key, keys):
    data = signed.sign(a_slip().document(), home_key)
    start = data.index(b'"document":') + len(b'"document":')
    end = data.index(b',"key_id"')
    for position in range(start, end, 7):
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        with pytest.raises(Refusal):
            read(bytes(flipped), keys)


def test_an_unknown_key_is_refused(keys):
    stranger = Ed25519PrivateKey.generate()
    data = signed.sign(a_slip().document(), stranger)
    assert code_of(lambda: read(data, keys)) == "unknown_key"


def test_the_hosts_own_key_cannot_sign_for_the_home_centre(host_key, keys):
    data = signed.sign(a_slip().document(), host_key)
    assert code_of(lambda: read(data, keys)) == "unknown_key"


def test_a_slip_for_another_host_is_refused(home_key, keys):
    data = signed.sign(a_slip(host_centre="C03").document(), home_key)
    assert code_of(lambda: read(data, keys)) == "wrong_host"


@pytest.mark.parametrize(
    ("valid_to", "today", "expected"),
    [
        (TODAY, TODAY, None),  # its last day: still good
        (TODAY, TODAY + timedelta(days=1), "expired"),
    ],
)
def test_expiry_at_the_last_day(home_key, keys, valid_to, today, expected):
    slip = a_slip(valid_from=TODAY - timedelta(days=3), valid_to=valid_to)
    data = signed.sign(slip.document(), home_key)
    if expected is None:
        assert read(data, keys, today=today) == slip
    else:
        assert code_of(lambda: read(data, keys, today=today)) == expected


@pytest.mark.parametrize(
    ("ahead", "expected"),
    [(slips.CLOCK_SKEW, None), (slips.CLOCK_SKEW + timedelta(seconds=1), "not_yet_valid")],
)
def test_a_slip_issued_in_the_hosts_future_is_not_yet_valid(home_key, keys, ahead, expected):
    data = signed.sign(a_slip(issued_at=NOW + ahead).document(), home_key)
    if expected is None:
        read(data, keys)
    else:
        assert code_of(lambda: read(data, keys)) == expected


@pytest.mark.parametrize(("days", "ok"), [(1, True), (30, True), (31, False)])
def test_a_slip_covers_at_most_thirty_days(days, ok):
    last = TODAY + timedelta(days=days - 1)
    if ok:
        slips.check_span(TODAY, last)
    else:
        assert code_of(lambda: slips.check_span(TODAY, last)) == "span_too_long"


def test_a_slip_whose_days_run_backwards_is_refused():
    assert code_of(lambda: slips.check_span(TODAY, TODAY - timedelta(days=1))) == "span_order"


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not json", b"[]", b'{"document": 1}', json.dumps({"document": {}}).encode()],
)
def test_garbage_is_malformed_not_a_crash(keys, garbage):
    assert code_of(lambda: read(garbage, keys)) == "malformed"


def test_a_signed_slip_with_a_bad_field_names_the_field(home_key, keys):
    document = a_slip().document()
    document["dose_mg"] = "70"
    data = signed.sign(document, home_key)
    with pytest.raises(Refusal) as caught:
        read(data, keys)
    assert "dose_mg" in caught.value.message


def a_return(slip, **changes) -> slips.DoseReturn:
    fields = dict(
        return_id="r-1",
        slip_id=slip.slip_id,
        host_centre=HOST,
        home_centre=HOME,
        client_code=slip.client_code,
        doses=(slips.ReturnedDose(TODAY, 70, NOW),),
    )
    fields.update(changes)
    return slips.DoseReturn(**fields)


def test_a_dose_return_signed_by_the_host_reads_back(host_key, keys):
    slip = a_slip()
    returned = a_return(slip)
    data = signed.sign(returned.document(), host_key)
    assert slips.read_return(data, keys, HOME, slip) == returned


def test_a_dose_return_outside_the_slips_days_is_refused(host_key, keys):
    slip = a_slip()
    late = slips.ReturnedDose(slip.valid_to + timedelta(days=1), 70, NOW)
    data = signed.sign(a_return(slip, doses=(late,)).document(), host_key)
    assert code_of(lambda: slips.read_return(data, keys, HOME, slip)) == "outside_slip"


def test_a_dose_return_with_two_doses_on_one_day_is_refused(host_key, keys):
    slip = a_slip()
    twice = (slips.ReturnedDose(TODAY, 70, NOW), slips.ReturnedDose(TODAY, 70, NOW))
    data = signed.sign(a_return(slip, doses=twice).document(), host_key)
    assert code_of(lambda: slips.read_return(data, keys, HOME, slip)) == "two_a_day"


def test_a_dose_return_signed_by_the_home_key_is_refused(home_key, keys):
    slip = a_slip()
    data = signed.sign(a_return(slip).document(), home_key)
    assert code_of(lambda: slips.read_return(data, keys, HOME, slip)) == "unknown_key"


def test_a_key_list_with_a_malformed_key_is_refused():
    assert code_of(lambda: signed.KeyList.from_hex({HOME: ["abc"]})) == "key_list"
