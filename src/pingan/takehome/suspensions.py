"""Take-home suspended by a clinician, and lifted again.

A suspension is a clinical hold on take-home, whatever the record allows: while it stands
no take-home is requested, approved or dispensed (the dispense re-check names it), and the
nurse sees it, with its reason and review day, on the take-home queue, the client's page
and the request's page. Suspending and lifting are the clinician's (`decide_takehome`),
each one transaction with its audit entry; the database keeps one standing suspension per
client, a reason on every suspension and a note on every lift.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require
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


def _review_day(value: date | str | None, today: date) -> date:
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


def suspend(client: Client, reason: str | None, review_on: date | str | None, by) -> Suspension:
    """Suspend take-home for `client` until a clinician lifts it, reviewing by `review_on`.
    Refused, writing nothing, without a reason, without a sensible review day, or when
    take-home is already suspended."""
    require(by, "decide_takehome")
    reason = (reason or "").strip()
    if not reason:
        raise Refusal(
            _("Say why take-home is suspended: a suspension needs a reason."),
            code="reason",
            field="reason",
        )
    if len(reason) > REASON_LIMIT:
        raise Refusal(
            _("Keep the reason to %(n)d characters or fewer.") % {"n": REASON_LIMIT},
            code="reason",
            field="reason",
        )
    today = clock.today()
    review_on = _review_day(review_on, today)
    try:
        with acting(by), transaction.atomic():
            refuse_if_suspended(client, _(AGAIN))
            suspension = Suspension.objects.create(
                client=client,
                reason=reason,
                review_on=review_on,
                suspended_by=by,
                suspended_at=clock.now(),
                created_by=by,
            )
            record(
                "takehome_suspend",
                target=str(suspension.external_id),
                client_code=client.code,
                reason=reason,
                review_on=review_on,
            )
    except IntegrityError:
        # Standing already (suspended before, or by another clinician a moment ago).
        refuse_if_suspended(client, _(AGAIN))
        raise
    return suspension


def lift(suspension: Suspension, note: str | None, by) -> Suspension:
    """Lift a standing suspension, saying why take-home may resume."""
    require(by, "decide_takehome")
    note = (note or "").strip()
    if not note:
        raise Refusal(
            _("Say why take-home may resume: lifting a suspension needs a note."),
            code="note",
            field="note",
        )
    if len(note) > REASON_LIMIT:
        raise Refusal(
            _("Keep the note to %(n)d characters or fewer.") % {"n": REASON_LIMIT},
            code="note",
            field="note",
        )
    with acting(by), transaction.atomic():
        suspension = (
            Suspension.objects.select_for_update().select_related("client").get(pk=suspension.pk)
        )
        if suspension.lifted_at is not None:
            raise Refusal(_("This suspension is already lifted."), code="lifted")
        suspension.lifted_at, suspension.lifted_by, suspension.lift_note = clock.now(), by, note
        suspension.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
        record(
            "takehome_suspension_lift",
            target=str(suspension.external_id),
            client_code=suspension.client.code,
            note=note,
            suspended_for=suspension.reason,
        )
    return suspension
