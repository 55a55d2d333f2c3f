"""`pingan guest issue` writes a signed slip file the host reads back with the
home centre's own key (`pingan guest key`); a refused slip writes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from dosing_factories import make_client

from pingan.audit.keys import public_hex, signing_key
from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.dosing.models import GuestSlip
from pingan.region import signed, slips
from pingan.registry.models import Client
from staff_factory import make_user

pytestmark = pytest.mark.django_db


def test_issue_writes_a_signed_slip_the_host_can_read(clock_at, tmp_path, capsys):
    clock_at(datetime(2026, 5, 4, 9, 0))
    home = Centre.objects.create(code="C01", name="Home Centre")
    Centre.objects.create(code="C02", name="Host Centre")
    doctor = make_user("clinician", "doc")
    client = make_client("C01-0001", doctor)
    Client.objects.filter(pk=client.pk).update(centre=home)
    out = tmp_path / "slip.json"
    today = clock.today()
    args = ["--client", "C01-0001", "--host", "C02", "--by", "doc", "--out", str(out)]
    call_command(
        "guest", "issue", "--from", str(today), "--to", str(today + timedelta(days=6)), *args
    )

    # Signed by the home centre's own key, which `pingan guest key` publishes.
    home_key = signed.centre_key(signing_key(), "C01").public_key()
    assert home_key != signing_key().public_key()
    keys = signed.KeyList.from_hex({"C01": [public_hex(home_key)]})
    slip = slips.read_slip(out.read_bytes(), keys, "C02", clock.now(), today)
    assert (slip.client_code, slip.dose_mg, slip.days) == ("C01-0001", 60, 7)
    assert slip.slip_id == str(GuestSlip.objects.get().external_id)

    capsys.readouterr()
    call_command("guest", "key", "--format", "json")
    published = json.loads(capsys.readouterr().out)
    assert published["C01"] == [public_hex(home_key)]
    assert published["C02"] != published["C01"]
    with pytest.raises(Refusal):
        # The host centre's key cannot sign for the home centre.
        slips.read_slip(
            out.read_bytes(),
            signed.KeyList.from_hex({"C01": published["C02"]}),
            "C02",
            clock.now(),
            today,
        )

    again = tmp_path / "again.json"
    with pytest.raises(CommandError):
        call_command(
            "guest",
            "issue",
            "--from",
            str(today),
            "--to",
            str(today + timedelta(days=40)),
            "--client",
            "C01-0001",
            "--host",
            "C02",
            "--by",
            "doc",
            "--out",
            str(again),
        )
    assert not again.exists() and GuestSlip.objects.count() == 1
