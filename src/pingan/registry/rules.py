"""Registry decisions that need no database: client codes, identity formats, episode dates,
whether a client may be transferred to another centre.

Each check returns a `Check` with its reason so forms and screens can say *why* a value was
refused, in the user's language.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# No 0/O and no 1/I: a nurse reading a code aloud or copying it by hand cannot confuse them.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PREFIX = "PA"
CODE_LENGTH = 6
DEFAULT_PHONE_REGION = "CN"

# GB 11643-1999: weights and check characters of the 18-character resident identity number.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Check:
    passed: bool
    reason: str = ""
    value: str = ""  # the normalised value when the check passed
    code: str = ""  # names the reason for screens and tests when the check failed


def random_client_code() -> str:
    """A fresh code from a cryptographic source; codes must not be guessable or sequential,
    since a sequence would reveal how many clients enrolled and when."""
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_national_id(value: str) -> str:
    """Spaces and hyphens removed, letters upper-cased: the form the blind index is built on."""
    return "".join(value.split()).replace("-", "").upper()


def prc_id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def check_national_id(value: str, document_type: str) -> Check:
    """A PRC resident ID must have 18 characters, a plausible birth date and the right check
    digit; any other document is accepted as written (foreign passports have no common form)."""
    normalised = normalise_national_id(value)
    if not normalised:
        return Check(False, _("Enter the document number."))
    if document_type != "prc_id":
        if len(normalised) > 40:
            return Check(False, _("A document number has at most 40 characters."))
        return Check(True, value=normalised)
    if len(normalised) != 18:
        return Check(
            False,
            _(
                "A resident identity number has 18 characters; this one has %(n)d. "
                "For a passport or another document choose that document type."
            )
            % {"n": len(normalised)},
        )
    if not normalised[:17].isdigit() or not (normalised[17].isdigit() or normalised[17] == "X"):
        return Check(False, _("The first 17 characters must be digits and the last a digit or X."))
    try:
        date(int(normalised[6:10]), int(normalised[10:12]), int(normalised[12:14]))
    except ValueError:
        return Check(False, _("Characters 7 to 14 are not a valid birth date."))
    expected = prc_id_check_digit(normalised[:17])
    if normalised[17] != expected:
        return Check(
            False,
            _("The check digit does not match (expected %(d)s): please re-read the number.")
            % {"d": expected},
        )
    return Check(True, value=normalised)


def check_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> Check:
    """A valid number, stored in E.164 so SMS gateways and duplicate checks agree."""
    if not value.strip():
        return Check(True, value="")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return Check(False, _("This is not a phone number."))
    if not phonenumbers.is_valid_number(number):
        return Check(False, _("This phone number is not valid."))
    return Check(
        True, value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def check_birth_year(year: int, today: date) -> Check:
    if year < 1900 or year > today.year:
        return Check(False, _("Enter a birth year between 1900 and %(y)d.") % {"y": today.year})
    return Check(True, value=str(year))


def check_discharge(enrolled_on: date | None, on: date, today: date) -> Check:
    """A discharge closes the open episode, on or after its enrolment and not in the future."""
    if enrolled_on is None:
        return Check(False, _("This client has no open treatment episode to discharge."))
    if on < enrolled_on:
        return Check(
            False,
            _("The discharge date cannot be before the enrolment on %(d)s.")
            % {"d": enrolled_on.isoformat()},
        )
    if on > today:
        return Check(False, _("The discharge date cannot be in the future."))
    return Check(True)


def check_re_enrol(has_open: bool, last_discharge: date | None, on: date, today: date) -> Check:
    """A new episode starts only after the last one closed, never overlapping it."""
    if has_open:
        return Check(False, _("This client is already in treatment; discharge them first."))
    if last_discharge is not None and on < last_discharge:
        return Check(
            False,
            _("The new enrolment cannot be before the last discharge on %(d)s.")
            % {"d": last_discharge.isoformat()},
        )
    if on > today:
        return Check(False, _("The enrolment date cannot be in the future."))
    return Check(True)


def check_not_treated_elsewhere(centres: list[tuple[str, str]], by_phone: bool = False) -> Check:
    """One person, one active enrolment in the region. `centres` are the (name, code) of the
    other centres where the same national ID (or, for a person without one, the same phone
    number: `by_phone`) has an open episode; only they are named."""
    if not centres:
        return Check(True)
    named = ", ".join(f"{name} ({code})" for name, code in sorted(set(centres), key=lambda c: c[1]))
    if by_phone:
        return Check(
            False,
            _(
                "A person with this phone number is in treatment at centre %(centres)s — "
                "contact them before enrolling here."
            )
            % {"centres": named},
        )
    return Check(
        False,
        _("Already in treatment at centre %(centres)s — contact them before enrolling here.")
        % {"centres": named},
    )


@dataclass(frozen=True)
class TransferFacts:
    """What a transfer decision reads, gathered by `actions.transfer_client`."""

    consent_on: date | None  # the day the client's consent was recorded; None: no consent
    today: date
    from_centre_id: int
    to_centre_id: int
    has_open_episode: bool
    # Guest slips not cancelled whose last day is today or later (open or still to come).
    guest_slips: int
    # Labels of lockboxes issued to the client and not retired.
    boxes: tuple[str, ...]
    # Take-home bottles dispensed to the client and not yet returned.
    bottles_out: int
    # The client's code is already used by a client of the target centre.
    code_taken: bool


def check_transfer(facts: TransferFacts) -> Check:
    """A client leaves for another centre of the region only with their consent, while in
    treatment here, with nothing of this centre's still in their hands or promised to them:
    no guest slip still to be used, no lockbox issued and no take-home bottle out. The first
    reason that stops it."""
    if facts.consent_on is None:
        return Check(
            False, _("The client's consent to the transfer must be recorded."), code="consent"
        )
    if facts.consent_on > facts.today:
        return Check(False, _("The consent cannot be dated in the future."), code="consent")
    if facts.to_centre_id == facts.from_centre_id:
        return Check(
            False,
            _("The client already belongs to this centre: choose another centre."),
            code="same_centre",
        )
    if not facts.has_open_episode:
        return Check(
            False,
            _(
                "This client has no open treatment episode: only a client in treatment is "
                "transferred (a discharged client is enrolled by the other centre)."
            ),
            code="no_episode",
        )
    if facts.guest_slips:
        return Check(
            False,
            _(
                "The client has a guest slip in force or still to come: cancel it before the "
                "transfer."
            ),
            code="guest_slip",
        )
    if facts.boxes:
        return Check(
            False,
            _(
                "Lockbox %(boxes)s is issued to the client: return the box first (a box belongs "
                "to its centre)."
            )
            % {"boxes": ", ".join(facts.boxes)},
            code="box",
        )
    if facts.bottles_out:
        return Check(
            False,
            ngettext(
                "%(count)d take-home bottle is still out: take it back before the transfer "
                "(the methadone in it is this centre's stock).",
                "%(count)d take-home bottles are still out: take them back before the transfer "
                "(the methadone in them is this centre's stock).",
                facts.bottles_out,
            )
            % {"count": facts.bottles_out},
            code="bottles",
        )
    if facts.code_taken:
        return Check(
            False,
            _("The other centre already has a client with this code; the transfer cannot keep it."),
            code="code_taken",
        )
    return Check(True)
