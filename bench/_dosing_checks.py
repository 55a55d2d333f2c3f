"""The invariants the dose-recording benchmark checks after every run (docs/architecture.md, Reliability):
simultaneous attempts for one client give one dose, every dose has one ledger line and
one audit entry, the ledger balance is the sum of its lines, the audit chain holds."""

from __future__ import annotations

import threading
from datetime import date


def double_attempts(clients, nurse, centre=None) -> dict[str, int]:
    """Two nurses press Confirm for the same client at the same instant, for each client.
    `centre`: where they work (the action's `centre`, and the audit context a request
    there has); None as in the single-centre benchmark."""
    from django.db import connection

    from pingan.audit.context import Actor, acting_as
    from pingan.dosing import actions

    from ._dosing_pg import _audit_centre

    where = {} if centre is None else {"centre": centre}

    outcome = {"attempts": 0, "recorded": 0, "refused_already_dosed": 0, "errors": 0}
    lock = threading.Lock()
    for c in clients:
        barrier = threading.Barrier(2)

        def press(client=c, barrier=barrier):
            try:
                with acting_as(Actor(nurse.get_username(), "nurse", "")), _audit_centre(centre):
                    barrier.wait()
                    result = actions.record_dose(client, nurse, **where)
                key = "recorded" if result.ok else (
                    "refused_already_dosed"
                    if any(b.code == "already_dosed" for b in result.blocks) else "errors"
                )  # fmt: skip
            except Exception:  # noqa: BLE001  counted: the check below fails on any
                key = "errors"
            finally:
                connection.close()
            with lock:
                outcome[key] += 1
                outcome["attempts"] += 1

        threads = [threading.Thread(target=press) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return outcome


def check(day: date, expected_today: int) -> dict:
    """The invariants after a run: zero double doses, every dose recorded with exactly one
    ledger line, balance == sum of the ledger, the audit chain intact."""
    from django.db.models import Count, Sum

    from pingan.audit.log import verify
    from pingan.audit.models import AuditEntry
    from pingan.dosing.models import Dose, StockEntry
    from pingan.dosing.queries import active_product, balance_at

    doubles = (
        Dose.objects.values("client_id", "date").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    today = Dose.objects.filter(date=day)
    lines = StockEntry.objects.filter(dose__date=day).values("dose_id").annotate(n=Count("id"))
    product = active_product()
    ledger_sum = StockEntry.objects.filter(product=product).aggregate(s=Sum("ml"))["s"]
    balance = balance_at(product)
    targets = {str(u) for u in today.values_list("external_id", flat=True)}
    audited = set(
        AuditEntry.objects.filter(action="dose_record", target__in=targets).values_list(
            "target", flat=True
        )
    )
    return {
        "double_doses": doubles,
        "doses_today": today.count(),
        "expected_today": expected_today,
        "doses_without_one_ledger_line": today.count() - sum(1 for row in lines if row["n"] == 1),
        "ledger_balance_ml": balance,
        "ledger_sum_ml": ledger_sum,
        "ledger_ok": balance == ledger_sum and balance >= 0,
        "doses_without_audit_entry": len(targets - audited),
        "audit_breaks": len(verify()),
    }


def verdict(summary: dict) -> None:
    """Fail loudly when a correctness invariant does not hold (timing never fails a run)."""
    c, d = summary["checks"], summary["doubles"]
    problems = []
    if c["double_doses"]:
        problems.append(f"{c['double_doses']} double doses")
    if c["doses_today"] != c["expected_today"]:
        problems.append(f"{c['doses_today']} doses today, expected {c['expected_today']}")
    if c["doses_without_one_ledger_line"]:
        problems.append(f"{c['doses_without_one_ledger_line']} doses without one ledger line")
    if not c["ledger_ok"]:
        problems.append(f"ledger balance {c['ledger_balance_ml']} != sum {c['ledger_sum_ml']}")
    if c["doses_without_audit_entry"]:
        problems.append(f"{c['doses_without_audit_entry']} doses without a dose_record entry")
    if c["audit_breaks"]:
        problems.append(f"audit chain: {c['audit_breaks']} breaks")
    if d["errors"] or d["recorded"] * 2 != d["attempts"]:
        problems.append(f"double attempts: {d}")
    if problems:
        raise AssertionError("; ".join(problems))


def region_check(day: date, expected_today: int) -> dict:
    """`check` for a region of centres: the same invariants, with every centre's ledger
    (each product's balance == the sum of its lines, never negative), every audit chain
    walked (`audit.log.check`, one report a chain), and the doses of `day` whose ledger line
    is on a product of another centre than the one the dose was given at (each centre
    keeps its own stock, so this should be 0)."""
    from django.db.models import Count, F, Sum

    from pingan.audit import log
    from pingan.dosing.models import Dose, Product, StockEntry

    out = check(day, expected_today)
    lines = StockEntry.objects.values("product_id").annotate(s=Sum("ml")).order_by()
    sums = {row["product_id"]: row["s"] for row in lines}
    ledgers = {}
    for product in Product.objects.select_related("centre").order_by("centre__code"):
        total = sums.get(product.pk) or 0
        ledgers[product.centre.code] = product.balance_ml == total and product.balance_ml >= 0
    out["centres_with_ledger_ok"] = sum(ledgers.values())
    out["centres_with_ledger_broken"] = sorted(code for code, ok in ledgers.items() if not ok)
    out["ledger_ok"] = all(ledgers.values())
    stock_of = StockEntry.objects.filter(dose__date=day)
    out["doses_from_another_centres_stock"] = stock_of.exclude(
        product__centre_id=F("dose__centre_id")
    ).count()
    given = Dose.objects.filter(date=day).values_list("centre__code")
    out["doses_today_by_centre"] = dict(given.annotate(n=Count("id")).order_by())
    report = log.check()
    chains = getattr(report, "chains", None) or [report]
    out["audit_chains"] = len(chains)
    out["audit_entries_by_chain"] = {c.centre or "region": c.total for c in chains}
    out["audit_breaks"] = len(report.breaks)
    return out
