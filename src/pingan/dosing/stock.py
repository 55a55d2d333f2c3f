"""The methadone stock ledger: receipts, waste, corrections, movements, reconciliation.

Every line is appended under a lock on the product row, which also carries the running
balance (see `append_entry`), so the balance is always the sum of the lines and never
negative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock, prepared
from pingan.core.domain import Refusal, acting, require, required_reason
from pingan.core.models import Centre

from . import queries
from .models import Dose, Product, Reconciliation, StockEntry, StockEntryKind


def ensure_default_product(centre: Centre | None = None) -> Product:
    """The solution in use at `centre` (the installation's first product without one);
    created on first need. China's MMT clinics mostly dispense a 1 mg/ml oral solution;
    `PINGAN_METHADONE_MG_PER_ML` in settings changes the default."""
    product = queries.product_at(centre.pk) if centre is not None else queries.active_product()
    if product is not None:
        return product
    strength = Decimal(str(getattr(settings, "PINGAN_METHADONE_MG_PER_ML", "1")))
    product, _created = Product.objects.get_or_create(
        centre=centre or Centre.current(),
        strength_mg_per_ml=strength,
        defaults={"name": "Methadone hydrochloride oral solution", "active": True},
    )
    if not product.active:
        product.active = True
        product.save(update_fields=["active"])
    return product


def product_of(centre: Centre) -> Product:
    """The solution in use at `centre` (a guest's dose is taken from the host's stock);
    created on first need, like `ensure_default_product`."""
    product = queries.product_at(centre.pk)
    if product is not None:
        return product
    strength = Decimal(str(getattr(settings, "PINGAN_METHADONE_MG_PER_ML", "1")))
    product, _created = Product.objects.get_or_create(
        centre=centre,
        strength_mg_per_ml=strength,
        defaults={"name": "Methadone hydrochloride oral solution", "active": True},
    )
    return product


def _ml(value, positive: bool = True) -> Decimal:
    try:
        ml = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Refusal(_("Enter an amount in ml.")) from None
    if ml == 0 or (positive and ml < 0):
        raise Refusal(_("The amount must be more than 0 ml."))
    return ml


SYNC_BALANCE = (
    "UPDATE {product} SET balance_ml = COALESCE((SELECT e.balance_ml FROM {entry} e"
    " WHERE e.product_id = {product}.id ORDER BY e.id DESC LIMIT 1), 0)"
)


def sync_balance() -> None:
    """Set each product's balance to its ledger's last line. For loaders that write ledger
    lines straight to the table (bulk_create, COPY), bypassing `append_entry`."""
    sql = SYNC_BALANCE.format(product=Product._meta.db_table, entry=StockEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _row(instance: models.Model) -> tuple[list[str], list]:
    """The columns and database values of a new row, prepared as the ORM's INSERT prepares
    them (defaults, auto_now_add, per-database adaptation), for a statement of our own."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup a use
    fields = [f for f in instance._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]
    return [db.ops.quote_name(f.column) for f in fields], values


def _saved(instance: models.Model, pk: int) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert_row(instance: models.Model, on_conflict: str = "") -> bool:
    """INSERT one new row in one statement, its id back by RETURNING. `on_conflict` (e.g.
    "ON CONFLICT (client_id, date) DO NOTHING") lets the database refuse a duplicate
    without an error, so no savepoint is needed around it: returns False then. Sends no
    signals (the callers audit these rows themselves)."""
    columns, values = _row(instance)
    sql = "INSERT INTO {} ({}) VALUES ({}) {} RETURNING {}".format(
        connection.ops.quote_name(instance._meta.db_table),
        ", ".join(columns),
        ", ".join(["%s"] * len(values)),
        on_conflict,
        connection.ops.quote_name(instance._meta.pk.column),
    )
    with connection.cursor() as cursor:
        prepared.execute(cursor, f"insert_{instance._meta.db_table}", sql, values)
        found = cursor.fetchone()
    if found is None:
        return False
    _saved(instance, found[0])
    return True


def _append_sql(columns: list[str]) -> str:
    """PostgreSQL: move the product's balance and append the line in one statement. The
    UPDATE takes the product row lock and, if it had to wait, works on the row as the last
    writer committed it, so the new balance is always the previous line's plus `ml`; a
    move that would go below zero updates nothing and appends nothing."""
    values = ", ".join("moved.balance_ml" if c == '"balance_ml"' else "%s" for c in columns)
    return (
        "WITH moved AS (UPDATE {product} SET balance_ml = balance_ml + %s"
        " WHERE id = %s AND balance_ml + %s >= 0 RETURNING balance_ml),"
        " line AS (INSERT INTO {entry} ({columns}) SELECT {values} FROM moved RETURNING id)"
        " SELECT moved.balance_ml, line.id FROM moved, line"
    ).format(
        product=Product._meta.db_table,
        entry=StockEntry._meta.db_table,
        columns=", ".join(columns),
        values=values,
    )


def _balance_of(product_id: int, cursor) -> Decimal:
    cursor.execute(f"SELECT balance_ml FROM {Product._meta.db_table} WHERE id = %s", [product_id])
    # SQLite hands back an int or a float for a decimal column: through str() to stay exact.
    return Decimal(str(cursor.fetchone()[0])).quantize(Decimal("0.01"))


def append_entry(
    product: Product,
    kind: str,
    ml: Decimal,
    by=None,
    dose: Dose | None = None,
    batch: str = "",
    reason: str = "",
) -> StockEntry:
    """Append one ledger line and move the product's running balance with it, so
    concurrent lines each see the balance before them. A line that would take the balance
    below zero is refused here; the check constraints are the backstop.

    On PostgreSQL this is one statement (`_append_sql`), which takes the product row lock:
    the dose action calls it as late as it can. On SQLite the write transaction already
    keeps every other writer out, so the balance is read, moved and written in turn (in
    Python, where decimals stay exact). The row-level audit capture sees the line as it
    would an ORM save."""
    entry = StockEntry(
        product=product,
        at=clock.now(),
        kind=kind,
        ml=ml,
        balance_ml=Decimal("0"),
        dose=dose,
        batch=batch,
        reason=reason,
        created_by=by,
    )
    # A shortage is raised after the block: nothing was written, and an exception leaving
    # a block without a savepoint would doom the caller's whole transaction.
    short = None
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns, values = _row(entry)
            del values[columns.index('"balance_ml"')]
            prepared.execute(
                cursor, "stock_append", _append_sql(columns), [ml, product.pk, ml, *values]
            )
            found = cursor.fetchone()
            if found is None:
                short = _balance_of(product.pk, cursor)
            else:
                entry.balance_ml = found[0]
                _saved(entry, found[1])
        else:
            previous = _balance_of(product.pk, cursor)
            if previous + ml < 0:
                short = previous
            else:
                entry.balance_ml = previous + ml
                cursor.execute(
                    f"UPDATE {Product._meta.db_table} SET balance_ml = %s WHERE id = %s",
                    [connection.ops.adapt_decimalfield_value(entry.balance_ml), product.pk],
                )
                insert_row(entry)
    if short is not None:
        raise Refusal(
            _("Not enough stock: the balance is %(balance)s ml and this needs %(ml)s ml.")
            % {"balance": short, "ml": -ml},
            code="stock",
        )
    post_save.send(StockEntry, instance=entry, created=True, raw=False, using=connection.alias)
    return entry


def _stockaudit(action: str, entry: StockEntry, **detail) -> None:
    record(
        action,
        target=str(entry.external_id),
        product=str(entry.product),
        ml=entry.ml,
        balance_ml=entry.balance_ml,
        **detail,
    )


def receive(product: Product, ml, batch: str, by) -> StockEntry:
    require(by, "manage_stock")
    batch = (batch or "").strip()
    if not batch:
        raise Refusal(_("The batch number is required."))
    amount = _ml(ml)
    with acting(by), transaction.atomic():
        entry = append_entry(product, StockEntryKind.RECEIPT, amount, by=by, batch=batch[:60])
        _stockaudit("stock_receive", entry, batch=batch)
    return entry


def record_waste(product: Product, ml, reason: str, by) -> StockEntry:
    require(by, "manage_stock")
    reason, amount = required_reason(reason), _ml(ml)
    with acting(by), transaction.atomic():
        entry = append_entry(product, StockEntryKind.WASTE, -amount, by=by, reason=reason)
        _stockaudit("stock_waste", entry, reason=reason)
    return entry


def correct(product: Product, ml, reason: str, by) -> StockEntry:
    """A signed correction of the ledger, always with its reason."""
    require(by, "manage_stock")
    reason, amount = required_reason(reason), _ml(ml, positive=False)
    with acting(by), transaction.atomic():
        entry = append_entry(product, StockEntryKind.CORRECTION, amount, by=by, reason=reason)
        _stockaudit("stock_correct", entry, reason=reason)
    return entry


def stock_movement(
    product: Product, kind: str, ml, by, dose: Dose | None = None, reason: str = ""
) -> StockEntry:
    """Take-home bottles out (negative ml) and returns in (positive), for the take-home app."""
    require(by, "dispense_takehome")
    if kind not in (StockEntryKind.TAKEHOME, StockEntryKind.RETURN):
        raise Refusal(_("Use receive, waste or correct for this kind of entry."))
    amount = _ml(ml, positive=False)
    with acting(by), transaction.atomic():
        entry = append_entry(product, kind, amount, by=by, dose=dose, reason=reason[:300])
        _stockaudit(f"stock_{kind}", entry)
    return entry


def reconcile(
    product: Product, on: date, counted_ml, explanation: str, by, post_correction: bool = False
) -> Reconciliation:
    """Compare the count with the ledger's balance at the end of `on`. A variance must be
    explained; with `post_correction` the ledger is corrected by the variance now."""
    require(by, "manage_stock")
    try:
        counted = Decimal(str(counted_ml)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Refusal(_("Enter an amount in ml.")) from None
    if counted < 0:
        raise Refusal(_("The counted amount cannot be negative."))
    if on > clock.today():
        raise Refusal(_("A day in the future cannot be counted."))
    explanation = (explanation or "").strip()
    with acting(by), transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        if Reconciliation.objects.filter(product=product, on=on).exists():
            raise Refusal(_("This day has already been reconciled."))
        expected = queries.balance_at(product, queries.end_of_day(on))
        variance = counted - expected
        if variance and not explanation:
            raise Refusal(
                _("The count differs from the ledger by %(v)s ml: explain the variance.")
                % {"v": variance},
                code="explain",
                field="explanation",
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
        record(
            "stock_reconcile",
            target=str(rec.external_id),
            on=on,
            expected_ml=expected,
            counted_ml=counted,
            variance_ml=variance,
            corrected=entry is not None,
        )
    return rec
