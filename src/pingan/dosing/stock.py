"""The methadone stock ledger: receipts, waste, corrections, movements, reconciliation.

Every line is appended under a lock on the product row (see `append_entry`), so the running
balance is always the sum of the lines and never negative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import queries
from .common import StockError, audit, clean_reason
from .models import Dose, Product, Reconciliation, StockEntry, StockEntryKind


def ensure_default_product() -> Product:
    """The solution in use; created on first need. China's MMT clinics mostly dispense a
    1 mg/ml oral solution; `PINGAN_METHADONE_MG_PER_ML` in settings changes the default."""
    product = queries.active_product()
    if product is not None:
        return product
    strength = Decimal(str(getattr(settings, "PINGAN_METHADONE_MG_PER_ML", "1")))
    product, _created = Product.objects.get_or_create(
        strength_mg_per_ml=strength,
        defaults={"name": "Methadone hydrochloride oral solution", "active": True},
    )
    if not product.active:
        product.active = True
        product.save(update_fields=["active"])
    return product


def _ml(value, positive: bool = True) -> Decimal:
    try:
        ml = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise StockError(_("Enter an amount in ml.")) from None
    if ml == 0 or (positive and ml < 0):
        raise StockError(_("The amount must be more than 0 ml."))
    return ml


def _lock(product: Product) -> None:
    """Row lock on the product (PostgreSQL). SQLite has no row locks: its write transaction
    (BEGIN IMMEDIATE) already keeps every other writer out, so the lock statement would only
    cost time on the busiest write of the day."""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Product._meta.db_table} WHERE id = %s FOR UPDATE", [product.pk]
            )


def append_entry(
    product: Product,
    kind: str,
    ml: Decimal,
    by=None,
    dose: Dose | None = None,
    batch: str = "",
    reason: str = "",
) -> StockEntry:
    """Append one ledger line under a lock on the product, so concurrent lines each see the
    balance before them. A line that would take the balance below zero is refused here; the
    database check constraint is the backstop."""
    with transaction.atomic():
        _lock(product)
        previous = (
            StockEntry.objects.filter(product=product)
            .order_by("-pk")
            .values_list("balance_ml", flat=True)
            .first()
        ) or Decimal("0")
        balance = previous + ml
        if balance < 0:
            raise StockError(
                _("Not enough stock: the balance is %(balance)s ml and this needs %(ml)s ml.")
                % {"balance": previous, "ml": -ml}
            )
        return StockEntry.objects.create(
            product=product,
            at=timezone.now(),
            kind=kind,
            ml=ml,
            balance_ml=balance,
            dose=dose,
            batch=batch,
            reason=reason,
            created_by=by,
        )


def _stockaudit(by, action: str, entry: StockEntry, **detail) -> None:
    audit(
        by,
        action,
        target=str(entry.external_id),
        product=str(entry.product),
        ml=entry.ml,
        balance_ml=entry.balance_ml,
        **detail,
    )


def receive(product: Product, ml, batch: str, by) -> StockEntry:
    batch = (batch or "").strip()
    if not batch:
        raise StockError(_("The batch number is required."))
    amount = _ml(ml)
    with transaction.atomic():
        entry = append_entry(product, StockEntryKind.RECEIPT, amount, by=by, batch=batch[:60])
        _stockaudit(by, "stock_receive", entry, batch=batch)
    return entry


def record_waste(product: Product, ml, reason: str, by) -> StockEntry:
    reason, amount = clean_reason(reason), _ml(ml)
    with transaction.atomic():
        entry = append_entry(product, StockEntryKind.WASTE, -amount, by=by, reason=reason)
        _stockaudit(by, "stock_waste", entry, reason=reason)
    return entry


def correct(product: Product, ml, reason: str, by) -> StockEntry:
    """A signed correction of the ledger, always with its reason."""
    reason, amount = clean_reason(reason), _ml(ml, positive=False)
    with transaction.atomic():
        entry = append_entry(product, StockEntryKind.CORRECTION, amount, by=by, reason=reason)
        _stockaudit(by, "stock_correct", entry, reason=reason)
    return entry


def stock_movement(
    product: Product, kind: str, ml, by, dose: Dose | None = None, reason: str = ""
) -> StockEntry:
    """Take-home bottles out (negative ml) and returns in (positive), for the take-home app."""
    if kind not in (StockEntryKind.TAKEHOME, StockEntryKind.RETURN):
        raise StockError(_("Use receive, waste or correct for this kind of entry."))
    amount = _ml(ml, positive=False)
    with transaction.atomic():
        entry = append_entry(product, kind, amount, by=by, dose=dose, reason=reason[:300])
        _stockaudit(by, f"stock_{kind}", entry)
    return entry


def reconcile(
    product: Product, on: date, counted_ml, explanation: str, by, post_correction: bool = False
) -> Reconciliation:
    """Compare the count with the ledger's balance at the end of `on`. A variance must be
    explained; with `post_correction` the ledger is corrected by the variance now."""
    try:
        counted = Decimal(str(counted_ml)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise StockError(_("Enter an amount in ml.")) from None
    if counted < 0:
        raise StockError(_("The counted amount cannot be negative."))
    if on > timezone.localdate():
        raise StockError(_("A day in the future cannot be counted."))
    explanation = (explanation or "").strip()
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        if Reconciliation.objects.filter(product=product, on=on).exists():
            raise StockError(_("This day has already been reconciled."))
        expected = queries.balance_at(product, queries.end_of_day(on))
        variance = counted - expected
        if variance and not explanation:
            raise StockError(
                _("The count differs from the ledger by %(v)s ml: explain the variance.")
                % {"v": variance},
                code="explain",
            )
        entry = None
        if variance and post_correction:
            reason = _("Reconciliation of %(day)s: %(why)s") % {"day": on, "why": explanation}
            entry = append_entry(
                product, StockEntryKind.CORRECTION, variance, by=by, reason=reason[:300]
            )
        rec = Reconciliation.objects.create(
            product=product,
            on=on,
            expected_ml=expected,
            counted_ml=counted,
            explanation=explanation[:500],
            correction=entry,
            created_by=by,
        )
        audit(
            by,
            "stock_reconcile",
            target=str(rec.external_id),
            on=on,
            expected_ml=expected,
            counted_ml=counted,
            variance_ml=variance,
            corrected=entry is not None,
        )
    return rec
