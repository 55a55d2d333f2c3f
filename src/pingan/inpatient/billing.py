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
from django.utils import timezone
from django.utils.translation import gettext as _

from . import queries, rules
from .common import audit, require
from .models import EntryKind, LedgerEntry, ReceiptSequence, Stay
from .rules import Refusal

ZERO = Decimal("0.00")


def _next_receipt_number() -> str:
    year = timezone.localdate().year
    ReceiptSequence.objects.get_or_create(year=year)
    sequence = ReceiptSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}-{sequence.last:06d}"


def _locked(stay: Stay) -> Stay:
    return Stay.objects.select_for_update().get(pk=stay.pk)


def take_payment(stay: Stay, amount, user, note: str = "") -> LedgerEntry:
    require(user, "inpatient_billing")
    amount = rules.check_amount(amount)
    with transaction.atomic():
        stay = _locked(stay)
        due = queries.ledger(stay).due
        if amount > due:
            raise Refusal(
                _(
                    "A payment of %(amount)s would make the balance negative: only %(due)s "
                    "is owed. Take at most %(due)s."
                )
                % {"amount": amount, "due": max(due, ZERO)},
                code="overpayment",
            )
        entry = LedgerEntry.objects.create(
            stay=stay,
            kind=EntryKind.PAYMENT,
            amount=amount,
            at=timezone.now(),
            receipt_number=_next_receipt_number(),
            note=(note or "").strip()[:200],
            created_by=user,
        )
        audit(
            user,
            "inpatient_payment",
            f"inpatient.stay:{stay.external_id}",
            amount=amount,
            receipt=entry.receipt_number,
        )
    return entry


def refund(stay: Stay, amount, user, note: str = "") -> LedgerEntry:
    require(user, "inpatient_billing")
    amount = rules.check_amount(amount)
    with transaction.atomic():
        stay = _locked(stay)
        credit = queries.ledger(stay).credit
        if amount > credit:
            raise Refusal(
                _(
                    "A refund of %(amount)s would make the balance negative: the client's "
                    "credit is %(credit)s."
                )
                % {"amount": amount, "credit": max(credit, ZERO)},
                code="overrefund",
            )
        entry = LedgerEntry.objects.create(
            stay=stay,
            kind=EntryKind.REFUND,
            amount=amount,
            at=timezone.now(),
            receipt_number=_next_receipt_number(),
            note=(note or "").strip()[:200],
            created_by=user,
        )
        audit(
            user,
            "inpatient_refund",
            f"inpatient.stay:{stay.external_id}",
            amount=amount,
            receipt=entry.receipt_number,
        )
    return entry


def extend(stay: Stay, days, user) -> LedgerEntry:
    """More planned days at the stay's frozen day price, charged to the ledger."""
    require(user, "inpatient_billing")
    days = rules.check_days(days)
    with transaction.atomic():
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
            at=timezone.now(),
            note=_("Extension"),
            created_by=user,
        )
        audit(
            user,
            "inpatient_extend",
            f"inpatient.stay:{stay.external_id}",
            days=days,
            amount=entry.amount,
        )
    return entry
