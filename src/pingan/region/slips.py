"""Guest slips and dose returns: what they hold and when a centre may accept one.

A client who travels is dosed as a guest at a host centre for at most `MAX_SLIP_DAYS` days.
The home centre's clinician issues a slip with what the host needs to dose safely (the
current dose, the latest dose date, take-home status, open holds, a photo); the host doses
only within its terms, and the doses it gives come back to the home record as a dose
return. Inside an installation both travel as rows; to or from another region they are
signed files (`signed.py`). This module holds the two documents' layout and the checks
that need no database: the dates, the length, who may read it, and when. The checks that
do (an open hold, an overlapping slip, a replay) belong to the actions that store them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from pingan.core.domain import Refusal

from .signed import KeyList, open_signed

SLIP_FORMAT = "pingan-guest-slip/1"
RETURN_FORMAT = "pingan-dose-return/1"
# A guest arrangement is for travel, not a second home: longer stays are a transfer.
MAX_SLIP_DAYS = 30
# Clocks of two centres disagree a little; a slip issued this far "in the future" of the
# host's clock is accepted, beyond it the slip is not yet valid.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class GuestSlip:
    slip_id: str
    home_centre: str
    host_centre: str
    client_code: str
    valid_from: date
    valid_to: date
    dose_mg: int
    last_dose_on: date | None
    takehome: str
    holds: tuple[str, ...]
    issued_at: datetime
    photo_jpeg_b64: str = ""

    @property
    def days(self) -> int:
        return (self.valid_to - self.valid_from).days + 1

    def covers(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def document(self) -> dict:
        return {
            "format": SLIP_FORMAT,
            "slip_id": self.slip_id,
            "home_centre": self.home_centre,
            "host_centre": self.host_centre,
            "client_code": self.client_code,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "dose_mg": self.dose_mg,
            "last_dose_on": self.last_dose_on.isoformat() if self.last_dose_on else None,
            "takehome": self.takehome,
            "holds": list(self.holds),
            "issued_at": self.issued_at.isoformat(),
            "photo_jpeg_b64": self.photo_jpeg_b64,
        }


def check_span(valid_from: date, valid_to: date) -> None:
    """A slip's days: in order and at most `MAX_SLIP_DAYS`, both ends included."""
    if valid_to < valid_from:
        raise Refusal(_("The slip's last day is before its first day."), code="span_order")
    if (valid_to - valid_from).days + 1 > MAX_SLIP_DAYS:
        raise Refusal(
            _("A guest slip covers at most %(days)d days; a longer stay is a transfer.")
            % {"days": MAX_SLIP_DAYS},
            code="span_too_long",
        )


def check_timely(slip: GuestSlip, now: datetime, today: date) -> None:
    """Refuse a slip whose days are over or that claims to be issued after `now`."""
    if slip.valid_to < today:
        raise Refusal(
            _("The slip expired on %(day)s.") % {"day": slip.valid_to.isoformat()},
            code="expired",
        )
    if slip.issued_at > now + CLOCK_SKEW:
        raise Refusal(
            _("The slip is not yet valid: it says it was issued at %(moment)s.")
            % {"moment": slip.issued_at.isoformat()},
            code="not_yet_valid",
        )


def _malformed(what: str) -> Refusal:
    return Refusal(
        _("The slip's field %(field)s is missing or malformed.") % {"field": what},
        code="malformed",
    )


def _day(document: dict, name: str, optional: bool = False) -> date | None:
    value = document.get(name)
    if value is None and optional:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _malformed(name) from None


def _text(document: dict, name: str, optional: bool = False) -> str:
    value = document.get(name, "" if optional else None)
    if not isinstance(value, str) or (not value and not optional):
        raise _malformed(name)
    return value


def slip_from_document(document: dict) -> GuestSlip:
    """The slip a (verified) document describes; a refusal naming the first bad field."""
    if document.get("format") != SLIP_FORMAT:
        raise _malformed("format")
    issued_at = parse_datetime(_text(document, "issued_at"))
    if issued_at is None or issued_at.tzinfo is None:
        raise _malformed("issued_at")
    dose_mg = document.get("dose_mg")
    if not isinstance(dose_mg, int) or isinstance(dose_mg, bool) or dose_mg <= 0:
        raise _malformed("dose_mg")
    holds = document.get("holds")
    if not isinstance(holds, list) or not all(isinstance(h, str) for h in holds):
        raise _malformed("holds")
    slip = GuestSlip(
        slip_id=_text(document, "slip_id"),
        home_centre=_text(document, "home_centre"),
        host_centre=_text(document, "host_centre"),
        client_code=_text(document, "client_code"),
        valid_from=_day(document, "valid_from"),
        valid_to=_day(document, "valid_to"),
        dose_mg=dose_mg,
        last_dose_on=_day(document, "last_dose_on", optional=True),
        takehome=_text(document, "takehome", optional=True),
        holds=tuple(holds),
        issued_at=issued_at,
        photo_jpeg_b64=_text(document, "photo_jpeg_b64", optional=True),
    )
    check_span(slip.valid_from, slip.valid_to)
    return slip


def read_slip(
    data: bytes, keys: KeyList, host_centre: str, now: datetime, today: date
) -> GuestSlip:
    """A slip file as the host reads it: signed by the home centre's listed key, meant for
    this host, within its days. Every failure is a `Refusal` with its reason."""
    slip = slip_from_document(open_signed(data, keys, signer_field="home_centre"))
    if slip.host_centre != host_centre:
        raise Refusal(
            _("The slip is for centre %(centre)s, not this one.") % {"centre": slip.host_centre},
            code="wrong_host",
        )
    if slip.home_centre == host_centre:
        raise Refusal(_("A centre cannot be its own client's host."), code="same_centre")
    check_timely(slip, now, today)
    return slip


@dataclass(frozen=True)
class ReturnedDose:
    day: date
    mg: int
    given_at: datetime


@dataclass(frozen=True)
class DoseReturn:
    return_id: str
    slip_id: str
    host_centre: str
    home_centre: str
    client_code: str
    doses: tuple[ReturnedDose, ...]

    def document(self) -> dict:
        return {
            "format": RETURN_FORMAT,
            "return_id": self.return_id,
            "slip_id": self.slip_id,
            "host_centre": self.host_centre,
            "home_centre": self.home_centre,
            "client_code": self.client_code,
            "doses": [
                {"day": d.day.isoformat(), "mg": d.mg, "given_at": d.given_at.isoformat()}
                for d in self.doses
            ],
        }


def _returned_dose(item: object) -> ReturnedDose:
    if not isinstance(item, dict):
        raise _malformed("doses")
    mg = item.get("mg")
    given_at = parse_datetime(item.get("given_at") or "")
    if not isinstance(mg, int) or isinstance(mg, bool) or mg <= 0:
        raise _malformed("doses.mg")
    if given_at is None or given_at.tzinfo is None:
        raise _malformed("doses.given_at")
    return ReturnedDose(day=_day(item, "day"), mg=mg, given_at=given_at)


def read_return(data: bytes, keys: KeyList, home_centre: str, slip: GuestSlip) -> DoseReturn:
    """A dose-return file as the home centre reads it: signed by the host's listed key,
    for a slip this centre issued, one dose a day at most, each on one of the slip's days
    and at most the slip's dose."""
    document = open_signed(data, keys, signer_field="host_centre")
    if document.get("format") != RETURN_FORMAT:
        raise _malformed("format")
    raw = document.get("doses")
    if not isinstance(raw, list):
        raise _malformed("doses")
    doses = tuple(_returned_dose(item) for item in raw)
    returned = DoseReturn(
        return_id=_text(document, "return_id"),
        slip_id=_text(document, "slip_id"),
        host_centre=_text(document, "host_centre"),
        home_centre=_text(document, "home_centre"),
        client_code=_text(document, "client_code"),
        doses=doses,
    )
    if returned.home_centre != home_centre or returned.slip_id != slip.slip_id:
        raise Refusal(_("The dose return is for another centre's slip."), code="wrong_slip")
    if returned.host_centre != slip.host_centre or returned.client_code != slip.client_code:
        raise Refusal(
            _("The dose return names another host or client than its slip."), code="wrong_slip"
        )
    days = [d.day for d in doses]
    if len(days) != len(set(days)):
        raise Refusal(_("The dose return has two doses on one day."), code="two_a_day")
    outside = sorted(d for d in days if not slip.covers(d))
    if outside:
        raise Refusal(
            _("The dose return has a dose on %(day)s, outside the slip's days.")
            % {"day": outside[0].isoformat()},
            code="outside_slip",
        )
    above = sorted(d.day for d in doses if d.mg > slip.dose_mg)
    if above:
        raise Refusal(
            _("The dose return has a dose on %(day)s above the slip's %(mg)d mg.")
            % {"day": above[0].isoformat(), "mg": slip.dose_mg},
            code="above_slip",
        )
    return returned
