"""POST /api/lockbox/events — the box upload endpoint (wire format: docs/lockbox-protocol.md).

The body is read raw, not through a schema: the signature covers the exact bytes, and the
answer codes (400/401/409/413) are part of the firmware contract, so the request body is
described to OpenAPI by hand and checked in `actions.receive_upload`."""

from __future__ import annotations

from django.http import JsonResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema

from pingan.audit.context import Actor, acting_as

from . import actions, rules

api = NinjaAPI(
    title="Ping An lockbox API",
    version="1",
    urls_namespace="lockbox-api",
    docs_url=None,
    description="Signed event uploads from take-home lockboxes.",
)


class Accepted(Schema):
    accepted: int


class Refused(Schema):
    detail: str


_EVENT = {
    "type": "object",
    "required": ["type", "at"],
    "properties": {
        "type": {"type": "string", "enum": list(rules.EVENT_TYPES)},
        "at": {"type": "string", "format": "date-time", "maxLength": 40},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": "number", "minimum": 0},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
    },
}
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["box", "seq", "events"],
                "properties": {
                    "box": {"type": "string", "pattern": f"^{rules.BOX_ID.pattern}$"},
                    "seq": {"type": "integer", "minimum": 0, "maximum": rules.MAX_SEQ},
                    "events": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": rules.MAX_EVENTS,
                        "items": _EVENT,
                    },
                },
            }
        }
    },
}
_SIGNATURE = {
    "name": "X-Box-Signature",
    "in": "header",
    "required": True,
    "description": "lowercase hex HMAC-SHA256 of the raw body under the box's event key",
    "schema": {"type": "string"},
}


@api.post(
    "/events",
    response={202: Accepted, 400: Refused, 401: Refused, 409: Refused, 413: Refused},
    openapi_extra={"requestBody": _BODY, "parameters": [_SIGNATURE]},
    summary="Upload signed box events",
)
def events(request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    # isdigit() alone lets "²" through to int(); only ASCII digits are a length.
    if not (length.isascii() and length.isdigit()):
        return _answer(actions.Answer(400, {"detail": "Content-Length is not a number"}))
    if int(length) > rules.MAX_BODY:
        return _answer(actions.Answer(413, {"detail": "body larger than 64 KiB"}))
    try:
        body = request.body
    except (RawPostDataException, OSError):
        return _answer(actions.Answer(400, {"detail": "the body could not be read"}))
    ip = request.META.get("REMOTE_ADDR", "")
    with acting_as(Actor(username="box", role="box", ip=ip)):
        answer = actions.receive_upload(body, request.headers.get("X-Box-Signature"))
    return _answer(answer)


def _answer(answer: actions.Answer) -> JsonResponse:
    return JsonResponse(answer.body, status=answer.status)
