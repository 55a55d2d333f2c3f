"""The ledger of a stay: prepayment with a numbered receipt, extension, refund.

Payments and refunds record how the money changed hands (cash, WeChat Pay, Alipay, bank
card): recorded for the receipt and the books, never processed here.

Every entry is a positive amount whose kind says which way it counts. The stay's
balance (`queries.ledger`) is cash held minus what is owed; an action that would leave
the client owing a negative amount (paying more than is due) or the unit holding negative
cash (refunding more than the client's credit) is refused, and nothing is written.
The ledger never blocks methadone: the nursing actions do not read it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock, numbers
from pingan.core.domain import Refusal, acting, require

from . import queries, rules
from .models import EntryKind, LedgerEntry, PaymentMethod, ReceiptSequence, Stay

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


def check_method(method) -> str:
    """One of the recorded payment methods, or a refusal naming them."""
    if method not in PaymentMethod.values:
        names = "、".join(str(label) for label in PaymentMethod.labels)
        raise Refusal(
            _("Choose how the money was paid: %(methods)s.") % {"methods": names},
            code="method",
        )
    return method


def _cash_entry(
    stay: Stay, action: str, kind: str, amount, user, note: str, limit, refusal, method
) -> LedgerEntry:
    """Write one movement of money with its receipt, under a lock on the stay, if it stays
    within `limit(ledger)`; otherwise refuse with `refusal(amount, limit)` and write nothing.
    The caller has checked the permission."""
    amount = rules.check_amount(amount)
    method = check_method(method)
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
            payment_method=method,
            created_by=user,
        )
        record(
            action,
            f"inpatient.stay:{stay.external_id}",
            amount=amount,
            receipt=entry.receipt_number,
            method=method,
        )
    return entry


def take_payment(
    stay: Stay, amount, user, note: str = "", method: str = PaymentMethod.CASH
) -> LedgerEntry:
    """Money in: never more than is owed, so the client's balance cannot go negative."""
    require(user, "inpatient_billing")

    def refusal(amount, due):
        return Refusal(
            _(
                "A payment of %(amount)s would make the balance negative: only %(due)s "
                "is owed. Take at most %(due)s."
            )
            % {"amount": numbers.yuan(amount), "due": numbers.yuan(due)},
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
        method,
    )


def refund(
    stay: Stay, amount, user, note: str = "", method: str = PaymentMethod.CASH
) -> LedgerEntry:
    """Money out: never more than the client's credit, so the unit's cash cannot go negative."""
    require(user, "inpatient_billing")

    def refusal(amount, credit):
        return Refusal(
            _(
                "A refund of %(amount)s would make the balance negative: the client's "
                "credit is %(credit)s."
            )
            % {"amount": numbers.yuan(amount), "credit": numbers.yuan(credit)},
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
        method,
    )


def balance_after(entry: LedgerEntry) -> queries.Ledger:
    """The stay's ledger as it stood just after `entry` (entries are append-only, so the
    ones before it are those with a smaller id): what a receipt states as the balance."""
    totals = dict(
        LedgerEntry.objects.filter(stay_id=entry.stay_id, pk__lte=entry.pk)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    return queries.Ledger(*(totals.get(kind) or ZERO for kind in EntryKind.values))


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
