"""Pure decisions of the lockbox: the wire format of box uploads, the home-area test and
which events raise an alert. No database here, so firmware authors can read it as a spec."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

MAX_BODY = 64 * 1024
MAX_EVENTS = 1000
# The format nests three deep (upload, events list, event); one level spare for a future
# field. Checked before parsing, so a body of 30,000 "[" is refused, not recursed into.
MAX_DEPTH = 4
MAX_SEQ = 2**63 - 1  # a signed 64-bit column on both databases
# An event's time must be a real instant of the box's life: not before the year 2000 (a box
# whose clock was reset reports 1970 or 2000-01-01) and not more than a day ahead of the
# server (clock drift), so every `at` converts to a local day and fits every column.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
BOX_ID = re.compile(r"[0-9A-Za-z_-]{1,40}")
EVENT_TYPES = ("opened", "pin_failed", "locked_out", "tamper", "location", "battery")
EARTH_RADIUS_M = 6_371_008.8


class Malformed(ValueError):
    """The upload does not follow the wire format; the message says where."""


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    percent: int | None = None


@dataclass(frozen=True)
class Upload:
    box: str
    seq: int
    events: list[Event] = field(default_factory=list)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _within(value, low: float, high: float) -> bool:
    """A JSON number from low to high. Compared before any conversion to float, so an
    integer of 400 digits is out of range rather than an overflow."""
    if not (_is_int(value) or isinstance(value, float)):
        return False
    return (not isinstance(value, float) or math.isfinite(value)) and low <= value <= high


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (strings skipped), without parsing."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def envelope(body: bytes) -> dict:
    """The JSON object and its box id: enough to find the key that checks the signature."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("the body is not UTF-8 JSON") from exc
    if nesting_depth(text) > MAX_DEPTH:
        raise Malformed(f"the body nests more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise Malformed("the body is not UTF-8 JSON") from exc
    if not isinstance(data, dict):
        raise Malformed("the body is not a JSON object")
    box = data.get("box")
    if not isinstance(box, str) or not BOX_ID.fullmatch(box):
        raise Malformed('"box" must be the box id (a string of letters and digits)')
    return data


def _timestamp(raw, where: str, now: datetime) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise Malformed(f'{where}: "at" must be an ISO 8601 string')
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Malformed(f'{where}: "at" is not ISO 8601') from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise Malformed(f'{where}: "at" needs a UTC offset')
    # Aware datetimes compare without conversion, so year 1 or 9999 cannot overflow here.
    if not EARLIEST_EVENT <= at <= now + CLOCK_SKEW:
        raise Malformed(f'{where}: "at" is not between 2000 and tomorrow: check the box clock')
    return at


def _event(raw, index: int, now: datetime) -> Event:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise Malformed(f"{where} is not an object")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise Malformed(f"{where}: unknown event type")
    at = _timestamp(raw.get("at"), where, now)
    if kind == "location":
        lat, lon, acc = raw.get("lat"), raw.get("lon"), raw.get("accuracy_m")
        if not _within(lat, -90, 90):
            raise Malformed(f'{where}: "lat" must be a number from -90 to 90')
        if not _within(lon, -180, 180):
            raise Malformed(f'{where}: "lon" must be a number from -180 to 180')
        if not _within(acc, 0, 1_000_000):
            raise Malformed(f'{where}: "accuracy_m" must be a number of metres')
        return Event(kind, at, lat=float(lat), lon=float(lon), accuracy_m=float(acc))
    if kind == "battery":
        percent = raw.get("percent")
        if not (_is_int(percent) and 0 <= percent <= 100):
            raise Malformed(f'{where}: "percent" must be a whole number from 0 to 100')
        return Event(kind, at, percent=percent)
    return Event(kind, at)


def parse_upload(data: dict, now: datetime) -> Upload:
    """Check the whole upload (after its signature): seq and every event. `now` is the
    server's time, the upper bound of an event's `at`."""
    seq = data.get("seq")
    if not (_is_int(seq) and 0 <= seq <= MAX_SEQ):
        raise Malformed('"seq" must be a whole number, 0 or more')
    events = data.get("events")
    if not isinstance(events, list) or not events:
        raise Malformed('"events" must be a non-empty list')
    if len(events) > MAX_EVENTS:
        raise Malformed(f"at most {MAX_EVENTS} events per upload")
    return Upload(data["box"], seq, [_event(raw, i, now) for i, raw in enumerate(events)])


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in metres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def inside(point: tuple[float, float], centre: tuple[float, float], radius_m: float) -> bool:
    """Inside the home area, boundary included."""
    return distance_m(point, centre) <= radius_m


def alert_for(event: Event, local_day: date, bottle_days: set[date], inside_home: bool | None):
    """The alert kind an event raises, or None. `bottle_days` are the days a take-home
    bottle in this box covers; opening the box on any other day is worth a look."""
    if event.type == "tamper":
        return "tamper"
    if event.type == "locked_out":
        return "locked_out"
    if event.type == "location" and inside_home is False:
        return "outside_geofence"
    if event.type == "opened" and local_day not in bottle_days:
        return "opened_without_bottle"
    return None


def parse_point(text: str) -> tuple[float, float]:
    """ "lat,lon" as typed by staff; ValueError with the reason otherwise."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ValueError("write the point as latitude,longitude")
    lat, lon = float(parts[0]), float(parts[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not all(map(math.isfinite, (lat, lon))):
        raise ValueError("latitude is -90..90 and longitude -180..180")
    return lat, lon
