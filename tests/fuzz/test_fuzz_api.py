"""The JSON API fuzzed from its own OpenAPI schema (schemathesis), in-process through the
WSGI application with every middleware, on the test database.

Two passes over every operation the schema declares:
- as any client on the network would call it: generated bodies and headers, valid and
  invalid by the schema; every answer must be declared by the schema (status, media type,
  body) and none may be a server error;
- as a provisioned box would: the generated body is sent for a real box and signed with its
  key, so generation reaches past the signature into the parsing and the storing. Every
  answer is 202, 400 or 409, and a refused upload stores nothing.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from fuzz_budget import EXAMPLES
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pingan.core import clock
from pingan.lockbox import actions, pin
from pingan.lockbox.models import BoxEvent
from pingan.registry.models import Client, Consent, Episode

SCHEMA = schemathesis.openapi.from_wsgi("/api/lockbox/openapi.json", WSGIHandler())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES * 10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.django_db


@SCHEMA.parametrize()
@FUZZ
def test_the_api_answers_what_its_schema_declares(case, in_process_wsgi):
    response = case.call()
    case.validate_response(response, checks=CHECKS)


@pytest.fixture
def box(users):
    """A box issued to a consenting client with a home area, as the firmware sees it."""
    owner = Client.objects.create(code="FZ-1", alias="fuzz", sex="M", birth_year=1980)
    Episode.objects.create(client=owner, enrolled_on=clock.today())
    Consent.objects.create(client=owner, purpose="box_location", given_on=clock.today())
    issued = actions.issue_box(owner, users["manager"])
    actions.set_home_geofence(owner, "22.5431,114.0579", 500, users["manager"])
    return issued.box, issued.secret


@SCHEMA.parametrize()
@FUZZ
def test_signed_uploads_are_stored_whole_or_refused_whole(case, box, client):
    """Schemathesis generates the bodies; they are posted here as a box would post them
    (its transport may drop the signature header on purpose, for its negative cases)."""
    if case.method != "POST" or not isinstance(case.body, dict):
        return  # other methods are the first pass's; a body that is not an object names no box
    label, secret = box[0].label, box[1]
    box[0].refresh_from_db()
    before = (box[0].last_seq, BoxEvent.objects.count())
    body = {**case.body, "box": label}
    seq = body.get("seq")
    if type(seq) is int and seq <= box[0].last_seq:
        body["seq"] = box[0].last_seq + 1  # past the replay check, on to the events
    raw = json.dumps(body).encode("utf-8")
    response = client.post(
        "/api/lockbox/events",
        data=raw,
        content_type="application/json",
        HTTP_X_BOX_SIGNATURE=pin.sign(secret, raw),
    )
    assert response.status_code in (202, 400, 409, 413), (response.status_code, response.content)
    box[0].refresh_from_db()
    if response.status_code == 202:
        assert box[0].last_seq == body["seq"]
        assert BoxEvent.objects.count() >= before[1]
    else:
        assert (box[0].last_seq, BoxEvent.objects.count()) == before
