"""Guests from outside the installation: a signed slip read at the host, dosed there within
its terms, the host's signed dose return read back at home, where the doses count.

Each installation has its own key, made here; the documents are signed with
`region.signed.sign`. The one end-to-end test runs both installations in this test
database: the host's side inside a savepoint rolled back at its end, in which the home's
centre does not exist (the host's installation knows no centre C01), so only the two files
cross from one side to the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation

import guest_support
from guest_support import a_slip
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing import actions, queries, rules, visiting
from pingan.dosing.management.commands import guest as guest_command
from pingan.dosing.models import (
    Dose,
    DoseReturnReceived,
    GuestSlip,
    Hold,
    OutsideCentreKey,
    Prescription,
    ReturnedDose,
    StockEntry,
    VisitingGuest,
)
from pingan.indicators.definitions import Period
from pingan.indicators.engines import compute_db
from pingan.region import signed, slips
from pingan.registry.models import Client, Episode
from staff_factory import make_user

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 5, 4, 9, 0)
TABLES = (
    AuditEntry,
    Client,
    Dose,
    DoseReturnReceived,
    Episode,
    GuestSlip,
    Hold,
    OutsideCentreKey,
    Prescription,
    ReturnedDose,
    StockEntry,
    User,
    VisitingGuest,
)


@pytest.fixture(autouse=True)
def in_english():
    """The reasons are matched in English (the installation's language is Chinese)."""
    with translation.override("en"):
        yield


def make_client(code: str, centre: Centre, clinician) -> Client:
    """A client in treatment for a month on 60 mg, dosed yesterday."""
    today = clock.today()
    client = Client.objects.create(
        centre=centre, code=code, alias=f"alias {code}", sex="M", birth_year=1980
    )
    Episode.objects.create(client=client, enrolled_on=today - timedelta(days=30))
    Prescription.objects.create(
        client=client,
        mg=60,
        start_on=today - timedelta(days=30),
        clinician=clinician,
        reason="induction complete",
    )
    yesterday = today - timedelta(days=1)
    Dose.objects.create(
        client=client,
        date=yesterday,
        mg=60,
        mg_in_clinic=60,
        strength_mg_per_ml=1,
        volume_ml=60,
        given_at=clock.now() - timedelta(days=1),
    )
    return client


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def hex_of(key: Ed25519PrivateKey) -> str:
    return signed.public_bytes(key.public_key()).hex()


def list_key(code: str, name: str, key: Ed25519PrivateKey) -> None:
    call_command("guest", "keys", "add", "--centre", code, "--name", name, "--key", hex_of(key))


class _Elsewhere(Exception):
    """Ends the other installation's savepoint: nothing it wrote stays."""


def adherence(centre: Centre) -> tuple[int, int]:
    result = compute_db(Period.of(clock.today()), ["adherence"], centre_id=centre.pk)
    return result.results["adherence"].numerator, result.results["adherence"].denominator


def test_a_slip_and_its_dose_return_travel_between_installations(clock_at, tmp_path, monkeypatch):
    clock_at(MORNING)
    today = clock.today()
    home_key, host_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()

    # At home: centre C01, a client on 60 mg; C02, outside the installation, is listed.
    home = Centre.objects.create(code="C01", name="Home Centre")
    doctor = make_user("clinician", "home-doc")
    nurse = make_user("nurse", "home-nurse")
    client = make_client("C01-0001", home, doctor)
    list_key("C02", "Host Centre", signed.centre_key(host_key, "C02"))
    monkeypatch.setattr(guest_command, "signing_key", lambda: home_key)
    slip_file = tmp_path / "slip.json"
    last = today + timedelta(days=2)
    call_command(
        "guest", "issue", "--client", "C01-0001", "--host", "C02", "--from", str(today),
        "--to", str(last), "--by", "home-doc", "--out", str(slip_file),
    )  # fmt: skip
    slip = GuestSlip.objects.get()
    assert (slip.host, slip.outside_host) == (None, "C02")
    refused = actions.record_dose(client, nurse)
    assert [b.code for b in refused.blocks] == ["guest_elsewhere"] and "C02" in refused.message
    before = adherence(home)

    # At the host, another installation: C02 is a centre there, C01 is outside.
    return_file = tmp_path / "return.json"
    with pytest.raises(_Elsewhere), transaction.atomic():
        Centre.objects.filter(pk=home.pk).update(code="ELSEWHERE")
        host = Centre.objects.create(code="C02", name="Host Centre")
        manager = make_user("manager", "host-manager")
        host_nurse = make_user("nurse", "host-nurse")
        actions.receive(actions.product_of(host), 500, "G-1", manager)
        list_key("C01", "Home Centre", signed.centre_key(home_key, "C01"))
        call_command("guest", "import", str(slip_file), "--centre", "C02")
        visit = VisitingGuest.objects.get()
        local = visit.client
        assert (local.code, local.centre_id, visit.dose_mg) == ("C01:C01-0001", host.pk, 60)
        assert visit.signed_file == slip_file.read_bytes()
        assert AuditEntry.objects.get(action="guest_slip_imported").centre_id == host.pk
        queue = queries.queue_day(today, centre_id=host.pk)
        assert [r.client.code for r in queue.rows] == ["C01:C01-0001"]
        facts = queries.client_facts(local, today)  # the dose's facts, as the queue's
        assert queue.rows[0].facts == facts and facts.last_dose_date == visit.last_dose_on
        assert actions.record_dose(local, host_nurse, centre=host).ok
        clock_at(MORNING + timedelta(days=1))
        assert actions.record_dose(local, host_nurse, centre=host).ok
        monkeypatch.setattr(visiting, "signing_key", lambda: host_key)
        call_command("guest", "returns", "--out", str(return_file), "--slip", str(slip.external_id))
        raise _Elsewhere
    assert not Centre.objects.filter(code="C02").exists()

    # Home again, after the slip: the host's doses are on the client's record.
    clock_at(MORNING + timedelta(days=3))
    call_command("guest", "import-returns", str(return_file))
    doses = Dose.objects.filter(client=client, date__gte=today).order_by("date")
    assert [(d.date, d.mg, d.kind, d.centre_id) for d in doses] == [
        (today, 60, "guest", None),
        (today + timedelta(days=1), 60, "guest", None),
    ]
    assert {r.host_code for r in ReturnedDose.objects.all()} == {"C02"}
    assert not StockEntry.objects.filter(dose__in=doses).exists()
    # They count: in adherence, and in the missed-dose rules (one day missed, not three).
    numerator, denominator = adherence(home)
    assert numerator == before[0] + 2 and denominator == before[1]
    facts = queries.client_facts(client, clock.today())
    assert facts.last_dose_date == today + timedelta(days=1)
    assert rules.dosing_decision(facts, clock.today(), queries.thresholds()).missed == 1
    # The home's dispensing log lists only what it dispensed itself.
    assert not [
        line for line in queries.dispensing_lines(today) if line.dose.client_id == client.pk
    ]
    imported = AuditEntry.objects.get(action="guest_return_imported")
    assert imported.centre_id == home.pk  # the home centre's chain

    # The same return again is a replay: refused, nothing written.
    unchanged = counts()
    with pytest.raises(CommandError, match="imported already"):
        call_command("guest", "import-returns", str(return_file))
    assert counts() == unchanged


# At the host: a slip file is verified before anything is written ----------------------


@pytest.fixture
def host_side(clock_at):
    """An installation with centre C02 that trusts C01's key (C01 is outside it)."""
    clock_at(MORNING)
    home_key = Ed25519PrivateKey.generate()
    host = Centre.objects.create(code="C02", name="Host Centre")
    manager = make_user("manager", "host-manager")
    actions.receive(actions.product_of(host), 1000, "G-1", manager)
    list_key("C01", "Home Centre", home_key)
    return {"host": host, "home_key": home_key, "nurse": make_user("nurse", "host-nurse")}


def import_file(tmp_path, data: bytes, name: str = "slip.json") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    call_command("guest", "import", str(path), "--centre", "C02")


def signed_slip(side, **changes) -> bytes:
    return guest_support.signed_slip(side["home_key"], **changes)


REFUSED_SLIPS = {
    "tampered": (
        lambda side: signed_slip(side).replace(b'"dose_mg":70', b'"dose_mg":90'),
        "changed after it was signed",
    ),
    "expired": (
        lambda side: signed_slip(
            side,
            valid_from=clock.today() - timedelta(days=5),
            valid_to=clock.today() - timedelta(days=1),
        ),
        "expired",
    ),
    "not_yet_valid": (
        lambda side: signed_slip(side, issued_at=clock.now() + timedelta(hours=2)),
        "not yet valid",
    ),
    "unknown_key": (
        lambda side: signed.sign(a_slip().document(), Ed25519PrivateKey.generate()),
        "not in the region's list",
    ),
    "wrong_host": (lambda side: signed_slip(side, host_centre="C03"), "for centre C03"),
    "over_30_days": (
        lambda side: signed_slip(side, valid_to=clock.today() + timedelta(days=30)),
        "at most 30 days",
    ),
    "not_a_file": (lambda side: b"not json at all", "not a signed"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_SLIPS))
def test_a_bad_slip_is_refused_and_writes_nothing(host_side, tmp_path, case):
    make, reason = REFUSED_SLIPS[case]
    data = make(host_side)
    before = counts()
    with pytest.raises(CommandError, match=reason):
        import_file(tmp_path, data)
    assert counts() == before


def test_a_replayed_slip_is_refused_and_writes_nothing(host_side, tmp_path):
    data = signed_slip(host_side)
    import_file(tmp_path, data)
    assert AuditEntry.objects.filter(action="guest_slip_imported").count() == 1
    before = counts()
    with pytest.raises(CommandError, match="imported already"):
        import_file(tmp_path, data, "again.json")
    assert counts() == before


def test_the_host_doses_only_within_the_slip(host_side, tmp_path, clock_at):
    host, nurse = host_side["host"], host_side["nurse"]
    first = clock.today() + timedelta(days=1)
    import_file(
        tmp_path,
        signed_slip(
            host_side, valid_from=first, valid_to=first + timedelta(days=1), last_dose_on=None
        ),
    )
    local = VisitingGuest.objects.get().client
    # Before its first day: not on the queue, and refused.
    assert not queries.queue_day(clock.today(), centre_id=host.pk).rows
    assert not actions.record_dose(local, nurse, centre=host).ok
    # On its days: at most the slip's dose, even when the host's prescription says more.
    clock_at(MORNING + timedelta(days=1))
    Prescription.objects.filter(client=local).update(mg=90)
    above = actions.record_dose(local, nurse, centre=host)
    assert [b.code for b in above.blocks] == ["above_slip"]
    Prescription.objects.filter(client=local).update(mg=70)
    assert actions.record_dose(local, nurse, centre=host).dose.mg == 70
    # After its last day: off the queue, and refused with the reason.
    clock_at(MORNING + timedelta(days=3))
    assert not queries.queue_day(clock.today(), centre_id=host.pk).rows
    after = actions.record_dose(local, nurse, centre=host)
    assert "no_visit_slip" in [b.code for b in after.blocks]


def test_the_homes_holds_and_last_dose_come_with_the_slip(host_side, tmp_path):
    host, nurse = host_side["host"], host_side["nurse"]
    import_file(tmp_path, signed_slip(host_side, holds=("intoxicated", "unpaid_visit")))
    local = VisitingGuest.objects.get().client
    kinds = sorted(Hold.objects.filter(client=local).values_list("kind", flat=True))
    assert kinds == ["intoxicated", "other"]
    assert "blocks" and not actions.record_dose(local, nurse, centre=host).ok

    # A slip whose client's latest dose at home was four days ago: the host's rules see
    # three days missed and ask for a clinician's review, as the home centre would.
    import_file(
        tmp_path,
        signed_slip(
            host_side, client_code="C01-000018", last_dose_on=clock.today() - timedelta(days=4)
        ),
        "second.json",
    )
    other = Client.objects.get(code="C01:C01-000018")
    refused = actions.record_dose(other, nurse, centre=host)
    assert "missed_review" in [b.code for b in refused.blocks]
    assert refused.hold_opened is not None


def test_returns_without_a_slip_write_one_file_per_slip(host_side, tmp_path, monkeypatch):
    import_file(tmp_path, signed_slip(host_side))
    local = VisitingGuest.objects.get().client
    assert actions.record_dose(local, host_side["nurse"], centre=host_side["host"]).ok
    host_key = Ed25519PrivateKey.generate()
    monkeypatch.setattr(visiting, "signing_key", lambda: host_key)
    out = tmp_path / "returns"
    out.mkdir()
    call_command("guest", "returns", "--out", str(out))
    (written,) = out.iterdir()
    document = signed.open_signed(
        written.read_bytes(),
        signed.KeyList.from_hex({"C02": [hex_of(signed.centre_key(host_key, "C02"))]}),
        "host_centre",
    )
    assert document["format"] == slips.RETURN_FORMAT
    assert [d["mg"] for d in document["doses"]] == [70]
    assert document["client_code"] == "C01-000017" and document["home_centre"] == "C01"


# At home: a dose return is verified and written whole, or not at all -------------------


@pytest.fixture
def home_side(clock_at):
    """An installation with centre C01 and a slip it issued for C02, outside it."""
    clock_at(MORNING)
    host_key = Ed25519PrivateKey.generate()
    home = Centre.objects.create(code="C01", name="Home Centre")
    doctor = make_user("clinician", "home-doc")
    client = make_client("C01-0001", home, doctor)
    list_key("C02", "Host Centre", host_key)
    today = clock.today()
    slip = actions.issue_guest_slip(client, "C02", today, today + timedelta(days=2), doctor)
    return {"slip": slip, "client": client, "host_key": host_key}


def a_return(side, days=(0, 1), mg=60, **changes) -> slips.DoseReturn:
    slip, today = side["slip"], clock.today()
    fields = dict(
        return_id=str(uuid.uuid4()),
        slip_id=str(slip.external_id),
        host_centre="C02",
        home_centre="C01",
        client_code="C01-0001",
        doses=tuple(
            slips.ReturnedDose(today + timedelta(days=d), mg, clock.now() + timedelta(days=d))
            for d in days
        ),
    )
    fields.update(changes)
    return slips.DoseReturn(**fields)


def import_return(tmp_path, data: bytes) -> None:
    path = tmp_path / "return.json"
    path.write_bytes(data)
    call_command("guest", "import-returns", str(path))


REFUSED_RETURNS = {
    "outside_the_slip": (lambda side: a_return(side, days=(0, 1, 3)), "outside the slip's days"),
    "above_the_slip": (lambda side: a_return(side, mg=80), "above the slip's 60 mg"),
    "unknown_slip": (
        lambda side: a_return(side, slip_id=str(uuid.uuid4())),
        "answers no guest slip",
    ),
    "another_client": (
        lambda side: a_return(side, client_code="C01-0002"),
        "another host or client",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_RETURNS))
def test_a_bad_return_is_refused_whole(home_side, tmp_path, case):
    make, reason = REFUSED_RETURNS[case]
    data = signed.sign(make(home_side).document(), home_side["host_key"])
    before = counts()
    with pytest.raises(CommandError, match=reason):
        import_return(tmp_path, data)
    assert counts() == before


def test_a_tampered_or_unknown_return_is_refused(home_side, tmp_path):
    data = signed.sign(a_return(home_side).document(), home_side["host_key"])
    before = counts()
    with pytest.raises(CommandError, match="changed after it was signed"):
        import_return(tmp_path, data.replace(b'"mg":60', b'"mg":50', 1))
    stranger = signed.sign(a_return(home_side).document(), Ed25519PrivateKey.generate())
    with pytest.raises(CommandError, match="not in the region's list"):
        import_return(tmp_path, stranger)
    assert counts() == before


def test_a_return_clashing_with_a_home_dose_writes_nothing(home_side, tmp_path):
    """The slip was cancelled and the client dosed at home on its first day: a return
    naming that day and the next is refused whole, the next day included."""
    nurse = make_user("nurse", "home-nurse")
    home = home_side["client"].centre
    actions.receive(actions.product_of(home), 500, "H-1", make_user("manager", "home-manager"))
    actions.cancel_guest_slip(home_side["slip"], User.objects.get(username="home-doc"))
    assert actions.record_dose(home_side["client"], nurse).ok
    data = signed.sign(a_return(home_side, days=(1, 0)).document(), home_side["host_key"])
    before = counts()
    with pytest.raises(CommandError, match="already has a dose"):
        import_return(tmp_path, data)
    assert counts() == before


def test_a_later_return_adds_only_the_new_days(home_side, tmp_path):
    key = home_side["host_key"]
    import_return(tmp_path, signed.sign(a_return(home_side, days=(0,)).document(), key))
    import_return(tmp_path, signed.sign(a_return(home_side, days=(0, 1)).document(), key))
    assert ReturnedDose.objects.count() == 2 and DoseReturnReceived.objects.count() == 2
    changed = a_return(home_side, days=(0, 1, 2), mg=50)
    with pytest.raises(CommandError, match="already has a dose"):
        import_return(tmp_path, signed.sign(changed.document(), key))
    assert ReturnedDose.objects.count() == 2


# The key list -------------------------------------------------------------------------


def test_the_key_list_refuses_own_centres_and_reads_a_published_list(clock_at, tmp_path, capsys):
    clock_at(MORNING)
    Centre.objects.create(code="C01", name="Home Centre")
    key_a, key_b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = counts()
    with pytest.raises(CommandError, match="centre of this installation"):
        list_key("C01", "Home Centre", key_a)
    published = tmp_path / "keys.json"
    published.write_text(f'{{"C07": ["{hex_of(key_a)}"], "C01": ["{hex_of(key_b)}"]}}')
    with pytest.raises(CommandError, match="centre of this installation"):
        call_command("guest", "keys", "import", str(published))
    published.write_text('{"C07": ["00ff"]}')
    with pytest.raises(CommandError, match="malformed key"):
        call_command("guest", "keys", "import", str(published))
    assert counts() == before

    published.write_text(f'{{"C07": ["{hex_of(key_a)}", "{hex_of(key_b)}"]}}')
    call_command("guest", "keys", "import", str(published))
    call_command("guest", "keys", "import", str(published))  # again: nothing new
    assert OutsideCentreKey.objects.filter(centre_code="C07").count() == 2
    capsys.readouterr()
    call_command("guest", "keys")
    listing = capsys.readouterr().out
    assert signed.key_id(key_a.public_key()) in listing and hex_of(key_b) in listing
    assert AuditEntry.objects.filter(action="guest_key_added").count() == 2
