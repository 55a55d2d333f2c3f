"""The screen of guests from outside the installation (`dosing:outside`): a slip signed
outside uploaded at the host, the visit's signed dose return downloaded there, a dose
return uploaded at home; every refused file a 400 with its reason and nothing written; the
client's photo carried on the slip file from the home record to the host's.

The photo round trip runs both installations in this test database, as
tests/region/test_guest_files.py does: the host's side inside a savepoint rolled back at
its end, so only the slip file crosses.
"""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
import zipfile
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from PIL import Image

from guest_support import signed_slip
from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.core.models import Centre
from pingan.dosing import actions, slip_photos, visiting
from pingan.dosing.management.commands import guest as guest_command
from pingan.dosing.models import (
    Dose,
    DoseReturnReceived,
    GuestSlip,
    Hold,
    Prescription,
    ReturnedDose,
    VisitingGuest,
)
from pingan.region import signed, slips
from pingan.region.models import Membership
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
    Prescription,
    ReturnedDose,
    User,
    VisitingGuest,
)
# A JPEG as far as the slip's checks go: the start-of-image marker, a JFIF header, bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 4 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.fixture(autouse=True)
def in_english():
    """A command's reasons are matched in English (the installation's language is Chinese)."""
    with translation.override("en"):
        yield


def counts() -> dict[str, int]:
    """The rows of every table a slip or a return writes; of the audit, the guest actions
    (signing in is audited too)."""
    found = {model.__name__: model.objects.count() for model in TABLES}
    found["AuditEntry"] = AuditEntry.objects.filter(action__startswith="guest_").count()
    return found


def hex_of(key: Ed25519PrivateKey) -> str:
    return signed.public_bytes(key.public_key()).hex()


def list_key(code: str, key: Ed25519PrivateKey) -> None:
    call_command("guest", "keys", "add", "--centre", code, "--name", code, "--key", hex_of(key))


def staff(role: str, name: str, centre: Centre) -> User:
    user = make_user(role, name)
    Membership.objects.create(user=user, centre=centre)
    return user


def upload(browser, name: str, data: bytes, prefix: str = "slip"):
    return browser.post(
        reverse(name),
        {f"{prefix}-file": SimpleUploadedFile("file.json", data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )


# At the host ------------------------------------------------------------------------------


@pytest.fixture
def host_side(clock_at):
    """This installation: host centre C02 and another centre C03, each with a clinician;
    C01, outside, is in the key list with its centre key."""
    clock_at(MORNING)
    home_key, host_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    host = Centre.objects.create(code="C02", name="Host Centre")
    other = Centre.objects.create(code="C03", name="Other Centre")
    manager = staff("manager", "host-manager", host)
    actions.receive(actions.product_of(host), 1000, "G-1", manager)
    list_key("C01", signed.centre_key(home_key, "C01"))
    return {
        "host": host,
        "other": other,
        "home_key": home_key,
        "host_key": host_key,
        "doctor": staff("clinician", "host-doc", host),
        "nurse": staff("nurse", "host-nurse", host),
        "other_doctor": staff("clinician", "other-doc", other),
    }


def slip_file(side, key=None, **changes) -> bytes:
    fields = dict(client_code="C01-0001", valid_to=clock.today() + timedelta(days=2), dose_mg=60)
    fields.update(changes)
    return signed_slip(key or signed.centre_key(side["home_key"], "C01"), **fields)


def test_a_slip_uploaded_at_the_host_registers_the_guest(host_side, client):
    client.force_login(host_side["doctor"])
    page = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "No guest from outside" in page.content.decode()
    response = upload(client, "dosing:outside_slip", slip_file(host_side))
    assert response.status_code == 302 and response.url == reverse("dosing:outside")
    visit = VisitingGuest.objects.get()
    assert (visit.client.code, visit.client.centre, visit.dose_mg) == (
        "C01:C01-0001",
        host_side["host"],
        60,
    )
    entry = AuditEntry.objects.get(action="guest_slip_imported")
    assert entry.centre_id == host_side["host"].pk and entry.username == "host-doc"
    listed = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-slip="{visit.slip_id}"' in listed and "C01:C01-0001" in listed
    # The guest is the host's client on its queue, as its own clients are.
    queue = client.get(reverse("dosing:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "C01:C01-0001" in queue and reverse("dosing:outside") in queue
    guests = client.get(reverse("dosing:guests"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    title = guests.split("<title>", 1)[1].split("</title>", 1)[0]
    assert reverse("dosing:outside") in guests and "<a " not in title


REFUSED = {
    "tampered": (
        lambda side: slip_file(side).replace(b'"dose_mg":60', b'"dose_mg":90'),
        "changed after it was signed",
    ),
    "expired": (
        lambda side: slip_file(
            side,
            valid_from=clock.today() - timedelta(days=5),
            valid_to=clock.today() - timedelta(days=1),
        ),
        "expired",
    ),
    "unknown_key": (
        lambda side: slip_file(side, key=Ed25519PrivateKey.generate()),
        "not in the region&#x27;s list",
    ),
    "wrong_host": (lambda side: slip_file(side, host_centre="C03"), "for centre C03"),
    "not_a_file": (lambda side: b"not json at all", "not a signed"),
    "photo_not_base64": (
        lambda side: slip_file(side, photo_jpeg_b64="not base64 at all!"),
        "photo is refused: it is not base64",
    ),
    "photo_not_jpeg": (
        lambda side: slip_file(side, photo_jpeg_b64=base64.b64encode(PNG).decode()),
        "photo is refused: it is not a JPEG",
    ),
    "too_large": (lambda side: b" " * (signed.MAX_FILE_BYTES + 1), "too large"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_slip_is_a_400_with_its_reason_and_writes_nothing(host_side, client, case):
    make, reason = REFUSED[case]
    data = make(host_side)
    client.force_login(host_side["doctor"])
    before = counts()
    response = upload(client, "dosing:outside_slip", data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert counts() == before


def test_a_replayed_slip_is_refused_on_the_screen(host_side, client):
    data = slip_file(host_side)
    client.force_login(host_side["doctor"])
    assert upload(client, "dosing:outside_slip", data).status_code == 302
    before = counts()
    response = upload(client, "dosing:outside_slip", data)
    assert response.status_code == 400 and "imported already" in response.content.decode()
    assert counts() == before


def test_a_refusal_reads_in_chinese(host_side, client):
    client.force_login(host_side["doctor"])
    data = slip_file(host_side, photo_jpeg_b64="!!")
    response = client.post(
        reverse("dosing:outside_slip"),
        {"slip-file": SimpleUploadedFile("file.json", data)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400 and "照片" in response.content.decode()


def test_only_the_host_centres_clinicians_reach_its_guests(host_side, client):
    client.force_login(host_side["doctor"])
    upload(client, "dosing:outside_slip", slip_file(host_side))
    visit = VisitingGuest.objects.get()
    download = reverse("dosing:outside_return_out", args=[visit.external_id])
    # A nurse: 403 on every part of the screen.
    client.force_login(host_side["nurse"])
    assert client.get(reverse("dosing:outside")).status_code == 403
    assert client.post(download).status_code == 403
    before = counts()
    assert upload(client, "dosing:outside_slip", slip_file(host_side)).status_code == 403
    assert counts() == before
    # A clinician of another centre: the visit is not listed, and not found.
    client.force_login(host_side["other_doctor"])
    page = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert str(visit.slip_id) not in page
    assert client.post(download).status_code == 404
    # A slip for C02 uploaded at C03 is for another host.
    response = upload(client, "dosing:outside_slip", slip_file(host_side))
    assert response.status_code == 400 and "for centre C02" in response.content.decode()
    assert counts() == before
    assert not AuditEntry.objects.filter(action="guest_return_written").exists()


def test_the_downloaded_dose_return_verifies_with_the_host_key(host_side, client, monkeypatch):
    monkeypatch.setattr(visiting, "signing_key", lambda: host_side["host_key"])
    client.force_login(host_side["doctor"])
    upload(client, "dosing:outside_slip", slip_file(host_side))
    visit = VisitingGuest.objects.get()
    assert actions.record_dose(visit.client, host_side["nurse"], centre=host_side["host"]).ok
    page = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td class="num">1</td>' in page  # one dose given under the slip
    response = client.post(reverse("dosing:outside_return_out", args=[visit.external_id]))
    assert response.status_code == 200
    assert f"dose-return-{visit.slip_id}.json" in response["Content-Disposition"]
    host_public = signed.centre_key(host_side["host_key"], "C02").public_key()
    keys = signed.KeyList({"C02": (host_public,)})
    terms = slips.GuestSlip(
        slip_id=str(visit.slip_id),
        home_centre="C01",
        host_centre="C02",
        client_code="C01-0001",
        valid_from=visit.valid_from,
        valid_to=visit.valid_to,
        dose_mg=60,
        last_dose_on=None,
        takehome="",
        holds=(),
        issued_at=visit.issued_at,
    )
    returned = slips.read_return(response.content, keys, "C01", terms)
    assert [(d.day, d.mg) for d in returned.doses] == [(clock.today(), 60)]
    entry = AuditEntry.objects.get(action="guest_return_written")
    assert entry.username == "host-doc" and entry.centre_id == host_side["host"].pk


def test_every_dose_return_downloads_at_once_as_a_zip(host_side, client, monkeypatch):
    monkeypatch.setattr(visiting, "signing_key", lambda: host_side["host_key"])
    client.force_login(host_side["doctor"])
    upload(client, "dosing:outside_slip", slip_file(host_side))
    upload(client, "dosing:outside_slip", slip_file(host_side, client_code="C01-0002"))
    visits = {str(v.slip_id): v for v in VisitingGuest.objects.all()}
    assert len(visits) == 2
    page = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("dosing:outside_returns_out") in page
    response = client.post(reverse("dosing:outside_returns_out"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "dose-returns-C02-" in response["Content-Disposition"]
    host_public = signed.centre_key(host_side["host_key"], "C02").public_key()
    keys = signed.KeyList({"C02": (host_public,)})
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = sorted(zf.namelist())
        assert names == sorted(f"dose-return-{slip}.json" for slip in visits)
        for name in names:
            document = signed.open_signed(zf.read(name), keys, "host_centre")
            assert document["slip_id"] in visits and document["doses"] == []
    written = AuditEntry.objects.filter(action="guest_return_written")
    assert written.count() == 2 and {e.username for e in written} == {"host-doc"}

    # A nurse may not; a clinician of another centre gets none of C02's visits.
    client.force_login(host_side["nurse"])
    assert client.post(reverse("dosing:outside_returns_out")).status_code == 403
    client.force_login(host_side["other_doctor"])
    response = client.post(reverse("dosing:outside_returns_out"))
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.namelist() == []
    assert written.count() == 2


# At home ----------------------------------------------------------------------------------


@pytest.fixture
def home_side(clock_at):
    """This installation: home centre C01 with a client on 60 mg and a slip issued to C02,
    outside; centre C03 another centre here."""
    clock_at(MORNING)
    host_key = Ed25519PrivateKey.generate()
    home = Centre.objects.create(code="C01", name="Home Centre")
    other = Centre.objects.create(code="C03", name="Other Centre")
    doctor = staff("clinician", "home-doc", home)
    person = make_client("C01-0001", home, doctor)
    list_key("C02", signed.centre_key(host_key, "C02"))
    today = clock.today()
    slip = actions.issue_guest_slip(person, "C02", today, today + timedelta(days=2), doctor)
    return {
        "home": home,
        "client": person,
        "slip": slip,
        "host_key": host_key,
        "doctor": doctor,
        "other_doctor": staff("clinician", "other-doc", other),
    }


def make_client(code: str, centre: Centre, clinician) -> Client:
    today = clock.today()
    person = Client.objects.create(centre=centre, code=code, alias=code, sex="M", birth_year=1980)
    Episode.objects.create(client=person, enrolled_on=today - timedelta(days=30))
    Prescription.objects.create(
        client=person,
        mg=60,
        start_on=today - timedelta(days=30),
        clinician=clinician,
        reason="induction complete",
    )
    return person


def return_file(side) -> bytes:
    returned = slips.DoseReturn(
        return_id=str(uuid.uuid4()),
        slip_id=str(side["slip"].external_id),
        host_centre="C02",
        home_centre="C01",
        client_code="C01-0001",
        doses=(slips.ReturnedDose(clock.today(), side["slip"].dose_mg, clock.now()),),
    )
    return signed.sign(returned.document(), signed.centre_key(side["host_key"], "C02"))


def test_a_dose_return_uploaded_at_home_records_the_doses(home_side, client):
    data = return_file(home_side)
    client.force_login(home_side["doctor"])
    page = client.get(reverse("dosing:outside"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-client="C01-0001"' in page  # the slip away, no dose returned yet
    response = upload(client, "dosing:outside_return_in", data, prefix="return")
    assert response.status_code == 302
    dose = Dose.objects.get(client=home_side["client"])
    mg = home_side["slip"].dose_mg
    assert (dose.date, dose.mg, dose.kind, dose.centre_id) == (clock.today(), mg, "guest", None)
    assert AuditEntry.objects.get(action="guest_return_imported").username == ("home-doc")
    # The same return again: a replay, refused.
    before = counts()
    again = upload(client, "dosing:outside_return_in", data, prefix="return")
    assert again.status_code == 400 and "imported already" in again.content.decode()
    assert counts() == before


def test_a_dose_return_is_refused_at_another_centre_and_when_changed(home_side, client):
    data = return_file(home_side)
    before = counts()
    client.force_login(home_side["other_doctor"])
    response = upload(client, "dosing:outside_return_in", data, prefix="return")
    assert response.status_code == 400
    assert "another centre issued" in response.content.decode()
    client.force_login(home_side["doctor"])
    changed = data.replace(b'"client_code":"C01-0001"', b'"client_code":"C01-0002"')
    response = upload(client, "dosing:outside_return_in", changed, prefix="return")
    assert response.status_code == 400 and "changed after" in response.content.decode()
    assert counts() == before


# The photo on the slip file ---------------------------------------------------------------


class _Elsewhere(Exception):
    """Ends the other installation's savepoint: nothing it wrote stays."""


def issue_file(tmp_path, code: str = "C01-0001") -> bytes:
    path = tmp_path / "slip.json"
    today = clock.today()
    call_command(
        "guest", "issue", "--client", code, "--host", "C02",
        "--from", str(today + timedelta(days=3)), "--to", str(today + timedelta(days=5)), "--by", "home-doc", "--out", str(path),
    )  # fmt: skip
    return path.read_bytes()


def test_the_photo_travels_from_the_home_record_to_the_hosts(
    home_side, client, tmp_path, monkeypatch
):
    home_key = Ed25519PrivateKey.generate()
    monkeypatch.setattr(guest_command, "signing_key", lambda: home_key)
    person = home_side["client"]
    Client.objects.filter(pk=person.pk).update(
        photo=f"image/jpeg;{base64.b64encode(JPEG).decode()}"
    )
    data = issue_file(tmp_path)
    assert len(data) <= signed.MAX_FILE_BYTES

    with pytest.raises(_Elsewhere), transaction.atomic():
        Centre.objects.filter(code="C01").update(code="ELSEWHERE")
        host = Centre.objects.create(code="C02", name="Host Centre")
        list_key("C01", signed.centre_key(home_key, "C01"))
        doctor = staff("clinician", "host-doc", host)
        client.force_login(doctor)
        assert upload(client, "dosing:outside_slip", data).status_code == 302
        local = VisitingGuest.objects.get().client
        assert local.centre == host
        # The host's dosing screens show the face as for its own clients.
        shown = client.get(reverse("registry:photo", args=[local.external_id]))
        assert shown.status_code == 200 and shown.content == JPEG
        assert shown["Content-Type"] == "image/jpeg"
        raise _Elsewhere


def test_no_photo_travels_as_an_empty_field(home_side, tmp_path, monkeypatch):
    monkeypatch.setattr(guest_command, "signing_key", Ed25519PrivateKey.generate)
    data = issue_file(tmp_path)
    assert b'"photo_jpeg_b64":""' in data


@pytest.mark.parametrize(
    "photo, reason",
    [
        (f"image/png;{base64.b64encode(PNG).decode()}", "cannot be read as a JPEG or PNG"),
        (f"image/gif;{base64.b64encode(b'GIF89a').decode()}", "cannot be read as a JPEG or PNG"),
        (
            f"image/jpeg;{base64.b64encode(JPEG[:4] + bytes(slip_photos.MAX_PHOTO_B64)).decode()}",
            "too large for a slip file",
        ),
    ],
)
def test_a_photo_that_cannot_travel_issues_no_slip(home_side, tmp_path, monkeypatch, photo, reason):
    monkeypatch.setattr(guest_command, "signing_key", Ed25519PrivateKey.generate)
    Client.objects.filter(pk=home_side["client"].pk).update(photo=photo)
    before = counts()
    with pytest.raises(CommandError, match=reason):
        issue_file(tmp_path)
    assert counts() == before and not (tmp_path / "slip.json").exists()


def _image(kind: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    """A real picture: noise, so it does not compress to nothing."""
    image = Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def _slip_photo_of(tmp_path) -> bytes:
    data = json.loads(issue_file(tmp_path))
    return base64.b64decode(data["document"]["photo_jpeg_b64"])


def test_a_png_photo_travels_as_a_jpeg(home_side, tmp_path, monkeypatch):
    monkeypatch.setattr(guest_command, "signing_key", Ed25519PrivateKey.generate)
    png = _image("PNG", (120, 160), "RGBA")
    Client.objects.filter(pk=home_side["client"].pk).update(
        photo=f"image/png;{base64.b64encode(png).decode()}"
    )
    photo = _slip_photo_of(tmp_path)
    # What the host checks (`slip_photos.stored_photo`) and a real JPEG of the same size.
    assert slip_photos.stored_photo(base64.b64encode(photo).decode()).startswith("image/jpeg;")
    shown = Image.open(io.BytesIO(photo))
    assert shown.format == "JPEG" and shown.size == (120, 160) and shown.mode == "RGB"


def test_a_photo_too_large_for_the_file_is_made_smaller(home_side, tmp_path, monkeypatch):
    monkeypatch.setattr(guest_command, "signing_key", Ed25519PrivateKey.generate)
    large = _image("JPEG", (2400, 1800))
    assert len(base64.b64encode(large)) > slip_photos.MAX_PHOTO_B64
    Client.objects.filter(pk=home_side["client"].pk).update(
        photo=f"image/jpeg;{base64.b64encode(large).decode()}"
    )
    photo = _slip_photo_of(tmp_path)
    assert len(base64.b64encode(photo)) <= slip_photos.MAX_PHOTO_B64
    shown = Image.open(io.BytesIO(photo))
    assert shown.format == "JPEG" and max(shown.size) in slip_photos.SMALLER_SIDES
    assert shown.size[0] / shown.size[1] == pytest.approx(4 / 3, rel=0.01)
