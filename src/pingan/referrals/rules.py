"""Referral decisions that need no database: input checks, status moves, due dates and
what the referring officer may learn. Each returns its reason so screens can say why."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.registry.rules import check_phone

from .models import OUTCOME_STATUSES, ReferralStatus

# Days from sending to the date a care referral should have been completed, per kind of care;
# a centre overrides any of them with PINGAN_CARE_REFERRAL_DUE_DAYS in its settings.
DEFAULT_DUE_DAYS = {"art": 14, "hcv": 30, "tb": 7, "psychiatry": 30, "social": 30}
# Two referrals of the same normalised name or phone within this many days are flagged.
DEFAULT_DUPLICATE_WINDOW_DAYS = 30
MAX_NAME = 80
MAX_STATION = 120
MAX_REASON = 500


@dataclass(frozen=True)
class Check:
    passed: bool
    reason: str = ""


def due_days(kind: str) -> int:
    table = {**DEFAULT_DUE_DAYS, **getattr(settings, "PINGAN_CARE_REFERRAL_DUE_DAYS", {})}
    return int(table.get(kind, 30))


def default_due_by(kind: str, sent_on: date) -> date:
    return sent_on + timedelta(days=due_days(kind))


def duplicate_window_days() -> int:
    return int(getattr(settings, "PINGAN_REFERRAL_DUPLICATE_DAYS", DEFAULT_DUPLICATE_WINDOW_DAYS))


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_name(name: str) -> str:
    """Full-width and half-width forms folded, case folded, spaces and punctuation dropped:
    "Zhang  San", "zhang-san" and "ＺＨＡＮＧ ＳＡＮ" index the same."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", name).casefold())


def check_referral_input(
    referred_on: date | None, station: str, name: str, contact: str, reason: str, today: date
) -> dict[str, str]:
    """Field → message for every problem with a referral as the officer typed it; the
    phone, when valid, is returned normalised under the key "contact_e164"."""
    errors: dict[str, str] = {}
    if referred_on is None:
        errors["referred_on"] = _("Enter the date of the referral.")
    elif referred_on > today:
        errors["referred_on"] = _("The referral date cannot be in the future.")
    elif referred_on < today - timedelta(days=365):
        errors["referred_on"] = _("The referral date is more than a year ago; check the year.")
    if not station.strip():
        errors["station"] = _("Enter your police station.")
    elif len(station.strip()) > MAX_STATION:
        errors["station"] = _("The station name is too long (at most %(n)d characters).") % {
            "n": MAX_STATION
        }
    if not normalise_name(name):
        errors["person_name"] = _("Enter the name or alias the person gave.")
    elif len(name.strip()) > MAX_NAME:
        errors["person_name"] = _("The name is too long (at most %(n)d characters).") % {
            "n": MAX_NAME
        }
    phone = check_phone(contact)
    if not phone.passed:
        errors["person_contact"] = phone.reason
    if not reason.strip():
        errors["reason"] = _("Say briefly why you refer this person.")
    elif len(reason.strip()) > MAX_REASON:
        errors["reason"] = _("The reason is too long (at most %(n)d characters).") % {
            "n": MAX_REASON
        }
    return errors


def check_outcome(
    status: str, outcome: str, on: date, referred_on: date, today: date, has_client: bool
) -> Check:
    """An outcome closes an open referral, dated between the referral and today; "enrolled"
    needs the client record it refers to."""
    if outcome not in [s.value for s in OUTCOME_STATUSES]:
        return Check(False, _("Choose an outcome."))
    if status not in (ReferralStatus.INBOX, ReferralStatus.CONTACTED):
        return Check(False, _("This referral already has an outcome."))
    if on < referred_on:
        return Check(False, _("The outcome cannot be dated before the referral."))
    if on > today:
        return Check(False, _("The outcome date cannot be in the future."))
    if outcome == ReferralStatus.ENROLLED and not has_client:
        return Check(False, _("Link the client record (or enrol the person) first."))
    return Check(True)


def check_contact_date(on: date, referred_on: date, today: date) -> Check:
    if on < referred_on:
        return Check(False, _("A contact attempt cannot be dated before the referral."))
    if on > today:
        return Check(False, _("A contact attempt cannot be dated in the future."))
    return Check(True)


def check_merge(
    duplicate_id: int,
    target_id: int,
    target_merged: bool,
    duplicate_merged: bool,
    duplicate_has_duplicates: bool,
) -> Check:
    """A duplicate goes into a referral that is itself not merged, so chains never form."""
    if duplicate_id == target_id:
        return Check(False, _("A referral cannot be merged into itself."))
    if duplicate_merged:
        return Check(False, _("This referral is already merged."))
    if target_merged:
        return Check(False, _("The other referral is itself merged; merge into the one it joined."))
    if duplicate_has_duplicates:
        return Check(False, _("Other referrals were merged into this one; merge the other way."))
    return Check(True)


# What the referring officer sees. Three answers only; "no information" covers a refusal, a
# non-enrolment without consent, no consent, no client and a referral still being worked,
# so none of those can be told apart (docs/confidentiality.md).
FEEDBACK_ENROLLED = "enrolled"
FEEDBACK_NOT_ENROLLED = "not_enrolled"
FEEDBACK_NONE = "none"
FEEDBACK_TEXT = {
    FEEDBACK_ENROLLED: gettext_lazy("Enrolled"),
    FEEDBACK_NOT_ENROLLED: gettext_lazy("Not enrolled"),
    FEEDBACK_NONE: gettext_lazy("No information"),
}


def police_feedback(status: str, has_client: bool, consented: bool) -> str:
    """Only a linked client's live `police_referral_feedback` consent opens the outcome, and
    only once the referral has one."""
    if not (has_client and consented) or status not in [s.value for s in OUTCOME_STATUSES]:
        return FEEDBACK_NONE
    return FEEDBACK_ENROLLED if status == ReferralStatus.ENROLLED else FEEDBACK_NOT_ENROLLED


def is_overdue(due_by: date, completed_on: date | None, today: date) -> bool:
    """Overdue from the day after the due date until it is completed; due today is not late."""
    return completed_on is None and due_by < today


def check_care_dates(sent_on: date, due_by: date | None, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if sent_on > today:
        errors["sent_on"] = _("The referral cannot be sent in the future.")
    if due_by is not None and due_by < sent_on:
        errors["due_by"] = _("The due date cannot be before the date sent.")
    return errors


def check_completion(
    sent_on: date, completed_on: date, outcome: str, today: date, already: bool
) -> dict[str, str]:
    from .models import CareOutcome

    errors: dict[str, str] = {}
    if already:
        errors["completed_on"] = _("This referral is already completed.")
    elif completed_on < sent_on:
        errors["completed_on"] = _("The completion cannot be before the date sent.")
    elif completed_on > today:
        errors["completed_on"] = _("The completion date cannot be in the future.")
    if outcome not in CareOutcome.values:
        errors["outcome"] = _("Choose an outcome.")
    return errors
