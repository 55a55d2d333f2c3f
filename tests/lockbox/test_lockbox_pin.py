"""The day's PIN (RFC 4226 HOTP) and the `pingan box pin` command."""

from datetime import date

import pyotp
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from pingan.lockbox import pin

RFC4226 = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]
RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize("counter,expected", list(enumerate(RFC4226)))
def test_rfc4226_appendix_d_vectors(counter, expected):
    assert pin.hotp(RFC_SECRET, counter) == expected


def test_day_number_counts_from_1970():
    assert pin.day_number(date(1970, 1, 1)) == 0
    assert pin.day_number(date(2026, 11, 23)) == 20780


def test_pin_for_uses_the_day_number_as_counter():
    secret = RFC_SECRET.hex()
    assert pin.pin_for(secret, date(1970, 1, 1)) == "755224"
    assert pin.pin_for(secret, date(1970, 1, 10)) == "520489"


@given(st.binary(min_size=20, max_size=20), st.integers(min_value=0, max_value=200_000))
def test_agrees_with_pyotp(secret, counter):
    import base64

    reference = pyotp.HOTP(base64.b32encode(secret).decode("ascii"), digits=6)
    assert pin.hotp(secret, counter) == reference.at(counter)


def test_new_secrets_are_160_bits_and_distinct():
    secrets = {pin.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(pin.secret_bytes(s)) == 20 for s in secrets)


@pytest.mark.parametrize("bad", ["abc", "zz" * 20, "31" * 19, ""])
def test_malformed_secrets_are_refused(bad):
    with pytest.raises(ValueError):
        pin.secret_bytes(bad)


def test_box_pin_command(capsys):
    call_command("box", "pin", "--secret", RFC_SECRET.hex(), "--date", "1970-01-04")
    assert capsys.readouterr().out.strip() == "969429"


def test_box_pin_command_refuses_bad_input():
    with pytest.raises(CommandError):
        call_command("box", "pin", "--secret", "nothex", "--date", "1970-01-04")
    with pytest.raises(CommandError):
        call_command("box", "pin", "--secret", RFC_SECRET.hex(), "--date", "04/01/1970")
