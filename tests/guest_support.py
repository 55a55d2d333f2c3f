"""Guest slips for tests: a slip of centre C01 for host C02 from today, and its signed
file (tests of guest files between installations, the screen for them, the key list)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pingan.core import clock
from pingan.region import signed, slips


def a_slip(**changes) -> slips.GuestSlip:
    """Client C01-000017 on 70 mg, dosed yesterday at home, a guest at C02 for a week from
    today; `changes` replaces any field."""
    today = clock.today()
    fields = dict(
        slip_id=str(uuid.uuid4()),
        home_centre="C01",
        host_centre="C02",
        client_code="C01-000017",
        valid_from=today,
        valid_to=today + timedelta(days=6),
        dose_mg=70,
        last_dose_on=today - timedelta(days=1),
        takehome="none",
        holds=(),
        issued_at=clock.now(),
    )
    fields.update(changes)
    return slips.GuestSlip(**fields)


def signed_slip(key, **changes) -> bytes:
    """`a_slip(**changes)` as the file the home centre signs with `key`."""
    return signed.sign(a_slip(**changes).document(), key)
