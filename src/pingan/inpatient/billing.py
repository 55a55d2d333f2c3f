"""The cash ledger of a stay: prepayment with a numbered receipt, extension, refund.

Every entry is a positive amount whose kind says which way it counts. The stay's
balance (`queries.ledger`) is cash held minus what is owed; an action that would leave
the client owing a negative amount (paying more than is due) or the unit holding negative
cash (refunding more than the client's credit) is refused, and nothing is written.
The ledger never blocks methadone: the nursing actions do not read it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require

from . import queries, rules
from .models import EntryKind, LedgerEntry, ReceiptSequence, Stay

ZERO = Decimal("0.00")


def _next_receipt_number() -> str:
    year = clock.today().year
    ReceiptSequence.objects.get_or_create(year=year)
    sequence = ReceiptSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}-{sequence.last:06d}"


def _locked(stay: Stay) -> Stay:
    return Stay.objects.select_for_update().get(pk=stay.pk)


def _cash_entry(
    stay: Stay, action: str, kind: str, amount, user, note: str, limit, refusal
) -> LedgerEntry:
    """Write one cash movement with its receipt, under a lock on the stay, if it stays within
    `limit(ledger)`; otherwise refuse with `refusal(amount, limit)` and write nothing. The
    caller has checked the permission."""
    amount = rules.check_amount(amount)
    with acting(user), transaction.atomic():
        stay = _locked(stay)
        allowed = limit(queries.ledger(stay))
        if amount > allowed:
            raise refusal(amount, max(allowed, ZERO))
        entry = LedgerEntry.objects.create(
            stay=stay,
            kind=kind,
            amount=amount,
            at=clock.now(),
            receipt_number=_next_receipt_number(),
            note=(note or "").strip()[:200],
            created_by=user,
        )
        record(
            action,
            f"inpatient.stay:{stay.external_id}",
            amount=amount,
            receipt=entry.receipt_number,
        )
    return entry


def take_payment(stay: Stay, amount, user, note: str = "") -> LedgerEntry:
    """Cash in: never more than is owed, so the client's balance cannot go negative."""
    require(user, "inpatient_billing")

    def refusal(amount, due):
        return Refusal(
            _(
                "A payment of %(amount)s would make the balance negative: only %(due)s "
                "is owed. Take at most %(due)s."
            )
            % {"amount": amount, "due": due},
            code="overpayment",
        )

    return _cash_entry(
        stay,
        "inpatient_payment",
        EntryKind.PAYMENT,
        amount,
        user,
        note,
        lambda led: led.due,
        refusal,
    )


def refund(stay: Stay, amount, user, note: str = "") -> LedgerEntry:
    """Cash out: never more than the client's credit, so the unit's cash cannot go negative."""
    require(user, "inpatient_billing")

    def refusal(amount, credit):
        return Refusal(
            _(
                "A refund of %(amount)s would make the balance negative: the client's "
                "credit is %(credit)s."
            )
            % {"amount": amount, "credit": credit},
            code="overrefund",
        )

    return _cash_entry(
        stay,
        "inpatient_refund",
        EntryKind.REFUND,
        amount,
        user,
        note,
        lambda led: led.credit,
        refusal,
    )


def extend(stay: Stay, days, user) -> LedgerEntry:
    """More planned days at the stay's frozen day price, charged to the ledger."""
    require(user, "inpatient_billing")
    days = rules.check_days(days)
    with acting(user), transaction.atomic():
        stay = _locked(stay)
        if not stay.is_open:
            raise Refusal(_("This stay has ended."), code="closed")
        if stay.planned_days + days > rules.MAX_PLANNED_DAYS * 4:
            raise Refusal(_("That would make the stay too long; discharge and readmit."))
        stay.planned_days += days
        stay.save(update_fields=["planned_days"])
        entry = LedgerEntry.objects.create(
            stay=stay,
            kind=EntryKind.CHARGE,
            amount=stay.price_per_day * days,
            days=days,
            at=clock.now(),
            note=_("Extension"),
            created_by=user,
        )
        record(
            "inpatient_extend",
            f"inpatient.stay:{stay.external_id}",
            days=days,
            amount=entry.amount,
        )
    return entry
