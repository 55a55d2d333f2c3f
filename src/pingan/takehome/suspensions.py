"""Take-home suspended by a clinician: reading suspensions and checking what staff typed.

A suspension is a clinical hold on take-home, whatever the record allows: while it stands
no take-home is requested, approved or dispensed (the dispense re-check names it), and the
nurse sees it, with its reason and review day, on the take-home queue, the client's page
and the request's page. Suspending and lifting are actions of the clinician
(`actions.suspend_takehome`, `actions.lift_suspension`), each one transaction with its
audit entry; the database keeps one standing suspension per client, a reason on every
suspension and a note on every lift.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pingan.core.domain import Refusal
from pingan.registry.models import Client

from .models import Suspension

# A review further ahead than this is a typing slip more often than a plan.
LONGEST_REVIEW_DAYS = 365
REASON_LIMIT = 300
AGAIN = gettext_noop("Lift it first to suspend again with a new reason or review day.")


def standing(client: Client) -> Suspension | None:
    """The client's standing suspension, if any."""
    return (
        Suspension.objects.filter(client=client, lifted_at__isnull=True)
        .select_related("suspended_by")
        .first()
    )


def history(client: Client, limit: int = 10) -> list[Suspension]:
    """The client's latest suspensions, standing or lifted."""
    found = client.takehome_suspensions.select_related("suspended_by", "lifted_by")
    return list(found[:limit])


def standing_for(client_ids: Iterable[int]) -> dict[int, Suspension]:
    """The standing suspensions of several clients, by client id (for the queue)."""
    return {
        s.client_id: s
        for s in Suspension.objects.filter(client_id__in=list(client_ids), lifted_at__isnull=True)
    }


def all_standing():
    """Every standing suspension, the review that is due first on top."""
    return (
        Suspension.objects.filter(lifted_at__isnull=True)
        .select_related("client")
        .defer("client__photo")
        .order_by("review_on", "suspended_at")
    )


def describe(suspension: Suspension) -> str:
    """One sentence for a refusal or a screen: since when, why, and the review day."""
    return _("Take-home is suspended since %(day)s: %(reason)s (review by %(review)s).") % {
        "day": timezone.localdate(suspension.suspended_at).isoformat(),
        "reason": suspension.reason,
        "review": suspension.review_on.isoformat(),
    }


def refuse_if_suspended(client: Client, then: str = "") -> None:
    """A refusal naming the standing suspension (and `then`, what to do), if there is one."""
    found = standing(client)
    if found is not None:
        raise Refusal(" ".join(filter(None, (describe(found), then))), code="suspended")


def given_reason(text: str | None) -> str:
    """The reason for a suspension, trimmed; refused when there is none or it is too long."""
    text = (text or "").strip()
    if not text:
        raise Refusal(
            _("Say why take-home is suspended: a suspension needs a reason."),
            code="reason",
            field="reason",
        )
    if len(text) > REASON_LIMIT:
        raise Refusal(
            _("Keep the reason to %(n)d characters or fewer.") % {"n": REASON_LIMIT},
            code="reason",
            field="reason",
        )
    return text


def given_note(text: str | None) -> str:
    """The note that lifts a suspension, trimmed; refused when there is none or too long."""
    text = (text or "").strip()
    if not text:
        raise Refusal(
            _("Say why take-home may resume: lifting a suspension needs a note."),
            code="note",
            field="note",
        )
    if len(text) > REASON_LIMIT:
        raise Refusal(
            _("Keep the note to %(n)d characters or fewer.") % {"n": REASON_LIMIT},
            code="note",
            field="note",
        )
    return text


def review_day(value: date | str | None, today: date) -> date:
    """The day the suspension is to be reviewed: a date (or YYYY-MM-DD), today at the
    earliest, within a year."""
    if isinstance(value, str):
        value = value.strip()
        try:
            value = date.fromisoformat(value) if value else None
        except ValueError:
            raise Refusal(
                _("“%(value)s” is not a date: enter the review day as YYYY-MM-DD.")
                % {"value": value[:40]},
                code="review_on",
                field="review_on",
            ) from None
    if value is None:
        raise Refusal(
            _("Enter the day the suspension is to be reviewed."),
            code="review_on",
            field="review_on",
        )
    last = today + timedelta(days=LONGEST_REVIEW_DAYS)
    if value < today:
        raise Refusal(
            _("The review day cannot be in the past."), code="review_on", field="review_on"
        )
    if value > last:
        raise Refusal(
            _("Set the review within a year, by %(last)s at the latest.")
            % {"last": last.isoformat()},
            code="review_on",
            field="review_on",
        )
    return value
