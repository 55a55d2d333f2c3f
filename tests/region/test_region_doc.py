"""The worked example in docs/region.md is a real signed slip: it verifies with the
documented public key and reads back as the documented slip."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pingan.region import signed, slips

DOC = Path(__file__).resolve().parents[2] / "docs" / "region.md"
PUBLIC_KEY = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def test_the_documented_slip_verifies_with_the_documented_key():
    example = re.search(r'^\{"document":\{.*$', DOC.read_text(encoding="utf-8"), re.M).group(0)
    keys = signed.KeyList.from_hex({"C01": [PUBLIC_KEY]})
    china = timezone(timedelta(hours=8))
    slip = slips.read_slip(
        example.encode(),
        keys,
        host_centre="C02",
        now=datetime(2026, 12, 6, 10, 0, tzinfo=china),
        today=date(2026, 12, 6),
    )
    assert (slip.client_code, slip.dose_mg, slip.days) == ("C01-000017", 70, 7)
    assert example.encode() + b"\n" == signed.sign(
        slip.document(),
        Ed25519PrivateKey.from_private_bytes(bytes(range(32))),
    )
