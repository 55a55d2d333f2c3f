"""POST /api/lockbox/events: the wire format of docs/lockbox-protocol.md and its bad-input matrix.

In every refused case nothing is stored: no event, no alert, the box's seq unchanged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from box_factories import bottle, issue, make_client
from django.utils import timezone

from pingan.core import clock
from pingan.core.domain import operator
from pingan.lockbox import pin
from pingan.lockbox.models import Box, BoxAlert, BoxEvent, HomeGeofence, LockboxSettings

pytestmark = pytest.mark.django_db
URL = "/api/lockbox/events"


def now_iso(offset_minutes: int = 0) -> str:
    return (clock.localtime() + timedelta(minutes=offset_minutes)).isoformat()


def body(box: str, seq: int, events: list[dict]) -> bytes:
    return json.dumps({"box": box, "seq": seq, "events": events}).encode("utf-8")


def post(client, raw: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_X_BOX_SIGNATURE": signature}
    return client.post(URL, data=raw, content_type="application/json", **headers)


@pytest.fixture
def boxed():
    owner = make_client("LB-1", consents=("box_location",))
    box, secret = issue(owner)
    return owner, box, secret


def nothing_stored(box: Box, seq: int = -1) -> None:
    assert BoxEvent.objects.count() == 0
    assert BoxAlert.objects.count() == 0
    box.refresh_from_db()
    assert box.last_seq == seq


def test_accepts_a_signed_upload(client, boxed):
    owner, box, secret = boxed
    bottle(owner, box, clock.today())
    raw = body(
        box.label,
        0,
        [{"type": "opened", "at": now_iso()}, {"type": "battery", "at": now_iso(), "percent": 81}],
    )
    response = post(client, raw, pin.sign(secret, raw))
    assert response.status_code == 202
    assert response.json() == {"accepted": 2}
    assert list(BoxEvent.objects.order_by("position").values_list("type", "battery_percent")) == [
        ("opened", None),
        ("battery", 81),
    ]
    assert not BoxAlert.objects.exists()  # opened on a day with a bottle
    box.refresh_from_db()
    assert box.last_seq == 0


def test_unknown_box_bad_and_missing_signature_get_the_same_401(client, boxed):
    _owner, box, secret = boxed
    raw = body(box.label, 1, [{"type": "opened", "at": now_iso()}])
    stranger = body("PAXXXXXXXX", 1, [{"type": "opened", "at": now_iso()}])
    answers = [
        post(client, raw, pin.sign("00" * 20, raw)),  # signed with another key
        post(client, raw, None),  # no header
        post(client, raw, ""),
        post(client, raw, pin.sign(secret, raw).upper()),  # must be lowercase hex
        post(client, stranger, pin.sign(secret, stranger)),  # unknown box
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1
    nothing_stored(box)


def test_signature_covers_the_exact_bytes(client, boxed):
    _owner, box, secret = boxed
    raw = body(box.label, 1, [{"type": "opened", "at": now_iso()}])
    tampered = raw.replace(b'"seq": 1', b'"seq": 2')
    assert post(client, tampered, pin.sign(secret, raw)).status_code == 401
    nothing_stored(box)


def test_retired_box_is_unknown(client, boxed):
    _owner, box, secret = boxed
    from pingan.lockbox.actions import retire_box

    with operator():
        retire_box(box, "lost")
    raw = body(box.label, 1, [{"type": "opened", "at": now_iso()}])
    assert post(client, raw, pin.sign(secret, raw)).status_code == 401
    nothing_stored(box)


def test_replay_and_old_seq_are_409(client, boxed):
    owner, box, secret = boxed
    bottle(owner, box, clock.today())
    raw = body(box.label, 5, [{"type": "opened", "at": now_iso()}])
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    replay = post(client, raw, pin.sign(secret, raw))
    assert replay.status_code == 409
    assert replay.json()["last_seq"] == 5
    older = body(box.label, 4, [{"type": "tamper", "at": now_iso()}])
    assert post(client, older, pin.sign(secret, older)).status_code == 409
    assert BoxEvent.objects.count() == 1
    assert not BoxAlert.objects.exists()


MALFORMED = [
    b"not json",
    b"\xff\xfe",
    b"[]",
    b'{"seq": 1, "events": []}',
    b'{"box": 7, "seq": 1, "events": []}',
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_unparseable_bodies_are_400(client, boxed, raw):
    _owner, box, secret = boxed
    assert post(client, raw, pin.sign(secret, raw)).status_code == 400
    nothing_stored(box)


def _bad_uploads(label: str):
    ok = {"type": "opened", "at": now_iso()}
    yield {"box": label, "seq": "1", "events": [ok]}
    yield {"box": label, "seq": -1, "events": [ok]}
    yield {"box": label, "seq": True, "events": [ok]}
    yield {"box": label, "seq": 1.5, "events": [ok]}
    yield {"box": label, "seq": 1, "events": []}
    yield {"box": label, "seq": 1, "events": {"type": "opened"}}
    yield {"box": label, "seq": 1, "events": [ok, {"type": "exploded", "at": now_iso()}]}
    yield {"box": label, "seq": 1, "events": [{"type": "opened"}]}
    yield {"box": label, "seq": 1, "events": [{"type": "opened", "at": "yesterday"}]}
    yield {"box": label, "seq": 1, "events": [{"type": "opened", "at": "2026-01-01T08:00:00"}]}
    yield {"box": label, "seq": 1, "events": [{"type": "battery", "at": now_iso(), "percent": 101}]}
    yield {
        "box": label,
        "seq": 1,
        "events": [{"type": "battery", "at": now_iso(), "percent": "80"}],
    }
    yield {
        "box": label,
        "seq": 1,
        "events": [{"type": "location", "at": now_iso(), "lat": 91, "lon": 0, "accuracy_m": 5}],
    }
    yield {
        "box": label,
        "seq": 1,
        "events": [{"type": "location", "at": now_iso(), "lat": 22.5, "lon": 114.0}],
    }
    yield {"box": label, "seq": 1, "events": ["opened"]}


def test_wrong_types_and_malformed_events_are_400(client, boxed):
    owner, box, secret = boxed
    bottle(owner, box, clock.today())
    for upload in _bad_uploads(box.label):
        raw = json.dumps(upload).encode()
        response = post(client, raw, pin.sign(secret, raw))
        assert response.status_code == 400, upload
        assert response.json()["detail"]
    nothing_stored(box)


def test_body_over_64_kib_is_413(client, boxed):
    _owner, box, secret = boxed
    events = [{"type": "pin_failed", "at": now_iso()}] * 2000
    raw = body(box.label, 1, events)
    assert len(raw) > 64 * 1024
    assert post(client, raw, pin.sign(secret, raw)).status_code == 413
    nothing_stored(box)


def test_only_post_is_served(client, boxed):
    assert client.get(URL).status_code == 405
    assert client.put(URL, data=b"{}", content_type="application/json").status_code == 405


def test_alerts_for_tamper_lockout_and_opening_without_bottle(client, boxed):
    _owner, box, secret = boxed
    events = [
        {"type": "tamper", "at": now_iso()},
        {"type": "locked_out", "at": now_iso()},
        {"type": "opened", "at": now_iso()},
        {"type": "pin_failed", "at": now_iso()},
    ]
    raw = body(box.label, 1, events)
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    assert sorted(BoxAlert.objects.values_list("kind", flat=True)) == [
        "locked_out",
        "opened_without_bottle",
        "tamper",
    ]


def test_opened_uses_the_local_day_of_the_event(client, boxed):
    owner, box, secret = boxed
    today = clock.today()
    bottle(owner, box, today)
    # 23:30 yesterday in the centre's time zone is yesterday, whatever UTC says.
    late = timezone.make_aware(
        datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=23, minute=30)
    )
    raw = body(box.label, 1, [{"type": "opened", "at": late.isoformat()}])
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    assert BoxAlert.objects.get().kind == "opened_without_bottle"


HOME = (22.543100, 114.057900)


def _location(lat: float, lon: float) -> dict:
    return {"type": "location", "at": now_iso(), "lat": lat, "lon": lon, "accuracy_m": 20}


def test_location_is_reduced_to_inside_or_outside_without_raw_coordinates(client, boxed):
    owner, box, secret = boxed
    HomeGeofence.objects.create(client=owner, centre=f"{HOME[0]},{HOME[1]}", radius_m=500)
    raw = body(box.label, 1, [_location(22.5440, 114.0580), _location(22.6000, 114.0579)])
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    rows = list(
        BoxEvent.objects.order_by("position").values_list("inside_geofence", "raw_location")
    )
    assert rows == [(True, ""), (False, "")]
    assert BoxAlert.objects.get().kind == "outside_geofence"


def test_raw_coordinates_kept_encrypted_only_with_retention(client, boxed):
    owner, box, secret = boxed
    HomeGeofence.objects.create(client=owner, centre=f"{HOME[0]},{HOME[1]}", radius_m=500)
    settings_row = LockboxSettings.current()
    settings_row.location_retention_days = 7
    settings_row.save()
    raw = body(box.label, 1, [_location(22.5440, 114.0580)])
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    event = BoxEvent.objects.get()
    assert event.raw_location.startswith("22.544000,114.058000")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_location FROM lockbox_boxevent")
        stored = cursor.fetchone()[0]
    assert "22.544" not in stored
    # Turning retention off purges what was kept.
    from pingan.lockbox.actions import update_settings

    with operator():
        update_settings(7, 0)
    event.refresh_from_db()
    assert event.raw_location == ""


def test_old_raw_coordinates_are_purged_after_retention(client, boxed):
    owner, box, secret = boxed
    settings_row = LockboxSettings.current()
    settings_row.location_retention_days = 2
    settings_row.save()
    old = (clock.localtime() - timedelta(days=3)).isoformat()
    raw = body(
        box.label,
        1,
        [
            {"type": "location", "at": old, "lat": 22.5, "lon": 114.0, "accuracy_m": 9},
            _location(22.5, 114.0),
        ],
    )
    assert post(client, raw, pin.sign(secret, raw)).status_code == 202
    assert list(BoxEvent.objects.order_by("position").values_list("raw_location", flat=True)) == [
        "",
        "22.500000,114.000000,20",
    ]


def test_location_without_consent_is_dropped_on_arrival(client):
    owner = make_client("LB-2")
    box, secret = issue(owner)
    HomeGeofence.objects.create(client=owner, centre=f"{HOME[0]},{HOME[1]}", radius_m=500)
    raw = body(
        box.label, 1, [_location(22.6, 114.0), {"type": "battery", "at": now_iso(), "percent": 50}]
    )
    response = post(client, raw, pin.sign(secret, raw))
    assert response.status_code == 202
    assert list(BoxEvent.objects.values_list("type", flat=True)) == ["battery"]
    assert not BoxAlert.objects.exists()


def test_openapi_schema_describes_the_endpoint(client):
    schema = client.get("/api/lockbox/openapi.json").json()
    operation = schema["paths"]["/api/lockbox/events"]["post"]
    assert set(operation["responses"]) == {"202", "400", "401", "409", "413"}
    events = operation["requestBody"]["content"]["application/json"]["schema"]["properties"][
        "events"
    ]
    assert set(events["items"]["properties"]["type"]["enum"]) == {
        "opened",
        "pin_failed",
        "locked_out",
        "tamper",
        "location",
        "battery",
    }
