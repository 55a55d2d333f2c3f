"""POST /api/lockbox/events against hostile bodies and headers: each answer is a 4xx with a
reason, never a server error, and nothing is stored (no event, no alert, no audit entry,
the box's seq unchanged).

Each case here once raised inside the server: RecursionError (deep nesting), TypeError
(a non-ASCII signature), OverflowError (a year-1 or year-9999 instant, a 400-digit
latitude) or ValueError (a Content-Length of "²")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from box_factories import issue, make_client
from django.test import Client as Browser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.lockbox import pin, rules
from pingan.lockbox.models import Box, BoxAlert, BoxEvent

pytestmark = pytest.mark.django_db
URL = "/api/lockbox/events"
NOW = datetime(2026, 12, 2, 14, 30)  # local time (Asia/Shanghai)


@pytest.fixture
def boxed():
    with clock.frozen(NOW):
        owner = make_client("LB-H", consents=("box_location",))
        box, secret = issue(owner)
        yield box, secret


@pytest.fixture
def browser():
    """Exceptions become answers, as under a real server: a 500 is seen, not raised."""
    return Browser(raise_request_exception=False)


def post(browser, raw: bytes, signature: str | None, **extra):
    headers = {} if signature is None else {"HTTP_X_BOX_SIGNATURE": signature}
    return browser.post(URL, data=raw, content_type="application/json", **headers, **extra)


def nothing_stored(box: Box) -> None:
    assert not BoxEvent.objects.exists()
    assert not BoxAlert.objects.exists()
    assert not AuditEntry.objects.filter(action="box_events").exists()
    box.refresh_from_db()
    assert box.last_seq == -1


def signed_text(box: Box, secret: str, text: str) -> tuple[bytes, str]:
    raw = text.encode("utf-8")
    return raw, pin.sign(secret, raw)


def at(**delta) -> str:
    return (clock.localtime() + timedelta(**delta)).isoformat()


def test_deep_nesting_is_400_before_and_after_the_signature(browser, boxed):
    box, secret = boxed
    bare = b"[" * 30_000 + b"]" * 30_000  # under 64 KiB, far past the parser's recursion
    answers = [post(browser, bare, pin.sign(secret, bare))]
    nested = "[" * 50 + "]" * 50
    event = f'{{"type": "opened", "at": "{at()}", "extra": {nested}}}'
    raw, signature = signed_text(
        box, secret, f'{{"box": "{box.label}", "seq": 1, "events": [{event}]}}'
    )
    answers.append(post(browser, raw, signature))
    assert [a.status_code for a in answers] == [400, 400]
    assert "levels deep" in answers[1].json()["detail"]
    nothing_stored(box)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert rules.nesting_depth('{"a": "[[[[[[{{{{\\"]]]]", "b": [1, {"c": []}]}') == 4


@pytest.mark.parametrize(
    "signature",
    ["é" * 64, "²" * 64, "中" * 64, "\x00" * 64, "\ud800", "ａ" * 64, "0" * 6400],
    ids=["latin-1", "superscript", "chinese", "nul", "lone-surrogate", "fullwidth", "long"],
)
def test_any_signature_bytes_get_the_same_401(browser, boxed, signature):
    box, secret = boxed
    with clock.frozen(NOW):
        raw = json.dumps({"box": box.label, "seq": 1, "events": [{"type": "opened", "at": at()}]})
        response = post(browser, raw.encode(), signature)
    assert response.status_code == 401
    assert response.json() == {"detail": "bad signature or unknown box"}
    nothing_stored(box)


@pytest.mark.parametrize(
    "instant",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00",
        "1970-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59+00:00",
        "2026-12-04T14:31:00+08:00",  # two days ahead of the server: a wrong box clock
    ],
)
def test_instants_out_of_range_are_400(browser, boxed, instant):
    box, secret = boxed
    with clock.frozen(NOW):
        text = json.dumps(
            {"box": box.label, "seq": 1, "events": [{"type": "opened", "at": instant}]}
        )
        raw, signature = signed_text(box, secret, text)
        response = post(browser, raw, signature)
    assert response.status_code == 400
    assert "box clock" in response.json()["detail"]
    nothing_stored(box)


def test_a_box_clock_a_few_hours_fast_is_accepted(browser, boxed):
    box, secret = boxed
    with clock.frozen(NOW):
        text = json.dumps(
            {"box": box.label, "seq": 1, "events": [{"type": "pin_failed", "at": at(hours=23)}]}
        )
        raw, signature = signed_text(box, secret, text)
        assert post(browser, raw, signature).status_code == 202
    assert BoxEvent.objects.count() == 1


HUGE = "1" + "0" * 400  # 10**400: a JSON integer Python parses, and no float can hold


@pytest.mark.parametrize(
    "event",
    [
        f'{{"type": "location", "at": "{{at}}", "lat": {HUGE}, "lon": 114.0, "accuracy_m": 5}}',
        f'{{"type": "location", "at": "{{at}}", "lat": 22.5, "lon": -{HUGE}, "accuracy_m": 5}}',
        f'{{"type": "location", "at": "{{at}}", "lat": 22.5, "lon": 114.0, "accuracy_m": {HUGE}}}',
        '{"type": "location", "at": "{at}", "lat": 1e400, "lon": 114.0, "accuracy_m": 5}',
        '{"type": "location", "at": "{at}", "lat": NaN, "lon": 114.0, "accuracy_m": 5}',
        '{"type": "location", "at": "{at}", "lat": 22.5, "lon": Infinity, "accuracy_m": 5}',
        f'{{"type": "battery", "at": "{{at}}", "percent": {HUGE}}}',
        '{"type": "battery", "at": "{at}", "percent": 80.0}',
        '{"type": "opened", "at": 20261202}',
        '{"type": "opened", "at": "2026-12-02T14:30:00+08:00' + "0" * 100 + '"}',
        '{"type": ["opened"], "at": "{at}"}',
    ],
)
def test_numbers_and_types_out_of_range_are_400(browser, boxed, event):
    box, secret = boxed
    with clock.frozen(NOW):
        event = event.replace("{at}", at())
        raw, signature = signed_text(
            box, secret, f'{{"box": "{box.label}", "seq": 1, "events": [{event}]}}'
        )
        response = post(browser, raw, signature)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    nothing_stored(box)


@pytest.mark.parametrize("seq", [HUGE, str(2**63), "-0.0", "1e3", "true", "null"])
def test_seq_out_of_range_is_400(browser, boxed, seq):
    box, secret = boxed
    with clock.frozen(NOW):
        raw, signature = signed_text(
            box,
            secret,
            f'{{"box": "{box.label}", "seq": {seq}, "events": [{{"type": "opened", "at": "{at()}"}}]}}',
        )
        response = post(browser, raw, signature)
    assert response.status_code == 400
    nothing_stored(box)


@pytest.mark.parametrize(
    "box_id", ["PA\\u0000XXXXXX", "", "x" * 41, "PA XXXXXXX", "箱子", "../PA", "PA\\nX"]
)
def test_box_ids_outside_the_alphabet_are_400(browser, boxed, box_id):
    box, secret = boxed
    raw = f'{{"box": "{box_id}", "seq": 1, "events": []}}'.encode()
    response = post(browser, raw, pin.sign(secret, raw))
    assert response.status_code == 400
    nothing_stored(box)


@pytest.mark.parametrize("length", ["²", "-1", "1e3", "0x10", " 12", "١٢"])
def test_a_content_length_that_is_not_a_number_is_400(browser, boxed, length):
    box, secret = boxed
    raw = b'{"box": "PAXXXXXXXX", "seq": 1, "events": []}'
    response = post(browser, raw, pin.sign(secret, raw), CONTENT_LENGTH=length)
    assert response.status_code == 400
    nothing_stored(box)


# Any JSON at all where the wire format puts an event field, signed with the right key:
# the answer is 202 or 400, never a server error, and a refused upload stores nothing.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", HUGE]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(["type", "at", "lat", "lon", "accuracy_m", "percent"])
TYPES = st.sampled_from(rules.EVENT_TYPES)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kind=TYPES, field=FIELDS, value=JSON)
def test_any_json_in_an_event_field_is_202_or_400(browser, boxed, kind, field, value):
    box, secret = boxed
    with clock.frozen(NOW):
        event = {
            "type": kind,
            "at": at(),
            "lat": 22.5,
            "lon": 114.0,
            "accuracy_m": 5,
            "percent": 50,
        }
        event[field] = value
        box.refresh_from_db()
        seq = box.last_seq + 1
        raw = json.dumps({"box": box.label, "seq": seq, "events": [event]}).encode()
        before = BoxEvent.objects.count()
        response = post(browser, raw, pin.sign(secret, raw))
    assert response.status_code in (202, 400), (response.status_code, event)
    if response.status_code == 400:
        assert BoxEvent.objects.count() == before
        box.refresh_from_db()
        assert box.last_seq == seq - 1
