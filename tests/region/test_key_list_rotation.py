"""The key list a region publishes (`pingan guest key --format json`) lists, for a centre
that has rotated its key, the new key first and the one it retired while the grace period
runs, so a slip signed just before the rotation still verifies at a centre outside."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from pingan.audit.keys import public_hex, signing_key
from pingan.core.models import Centre
from pingan.region import actions, signed

pytestmark = pytest.mark.django_db


def _listed() -> dict:
    out = StringIO()
    call_command("guest", "key", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_the_published_list_keeps_a_retired_key_for_the_grace_period(clock_at, users):
    at = clock_at(datetime(2026, 5, 1, 9, 0))
    Centre.objects.create(code="C01", name="One")
    Centre.objects.create(code="C02", name="Two")
    old = public_hex(signed.centre_key(signing_key(), "C01").public_key())
    other = _listed()["C02"]
    actions.rotate_centre_key("C01", users["manager"])
    new = public_hex(signed.centre_key(signing_key(), "C01").public_key())
    assert new != old
    assert _listed()["C01"] == [new, old]
    assert _listed()["C02"] == other
    at.advance(signed.ROTATION_GRACE + timedelta(seconds=1))
    assert _listed()["C01"] == [new]
