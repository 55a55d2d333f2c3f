"""The day's PIN: HOTP (RFC 4226) of the box secret with counter = the day number.

The box and the server derive it independently (docs/lockbox-protocol.md), so the box needs
no network to check a PIN. This module is the server's half and the reference for firmware:
HMAC-SHA1 over the 8-byte big-endian counter, dynamic truncation, 6 decimal digits. The HOTP
itself is django-otp's (`django_otp.oath.hotp`, already installed for the sign-in second
factor); tests/lockbox holds it to the RFC 4226 appendix D vectors.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from django_otp.oath import hotp as _oath_hotp

EPOCH = date(1970, 1, 1)
SECRET_BYTES = 20  # 160 bits, the length RFC 4226 recommends for HMAC-SHA1
DIGITS = 6


def new_secret() -> str:
    """A fresh random 160-bit box secret as 40 lowercase hex characters."""
    return secrets.token_hex(SECRET_BYTES)


def secret_bytes(secret_hex: str) -> bytes:
    """Parse a hex secret; ValueError with a plain reason if it is not 160 bits of hex."""
    cleaned = secret_hex.strip().lower()
    if len(cleaned) != SECRET_BYTES * 2:
        raise ValueError(f"a box secret is {SECRET_BYTES * 2} hex characters")
    try:
        return bytes.fromhex(cleaned)
    except ValueError as exc:
        raise ValueError("a box secret is written in hex (0-9, a-f)") from exc


def day_number(day: date) -> int:
    """Days from 1970-01-01 to the day (the HOTP counter)."""
    return (day - EPOCH).days


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3 (HMAC-SHA1, dynamic truncation) as `digits` decimal digits, leading
    zeros kept: the library returns an integer, the box shows and compares text."""
    return str(_oath_hotp(key, counter, digits)).zfill(digits)


def pin_for(secret_hex: str, day: date) -> str:
    """The PIN that opens the box with this secret on this day."""
    return hotp(secret_bytes(secret_hex), day_number(day))


def event_key(secret_hex: str) -> bytes:
    """The key that signs box event uploads: HMAC-SHA256(secret, b"pingan-box-events-v1").

    Derived, not the secret itself, so a leaked signature key cannot derive PINs."""
    return hmac.new(secret_bytes(secret_hex), b"pingan-box-events-v1", hashlib.sha256).digest()


def sign(secret_hex: str, body: bytes) -> str:
    """The X-Box-Signature of an upload: lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(event_key(secret_hex), body, hashlib.sha256).hexdigest()
