"""Every action code the project writes to the audit log has a readable label.

The codes are found by reading the source: the first argument of `record(...)` and the
action argument of the helpers that wrap it (`_cash_entry(stay, "...")`), including both
branches of `"a" if x else "b"`. A call whose action is not a literal must go through one
of the known wrappers, so no code can slip past this scan.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

import pingan
from pingan.audit.labels import LABELS, choices, label
from pingan.audit.log import record
from pingan.dosing.models import StockEntryKind

SOURCE = Path(pingan.__file__).resolve().parent
# Helpers whose action parameter is passed through to record(); their callers are scanned.
ACTION_ARGUMENT = {"record": 0, "_stockaudit": 0, "_cash_entry": 1}
PASS_THROUGH = {
    ("inpatient/billing.py", "action"),
    ("dosing/stock.py", "action"),
    ("dosing/stock.py", "f'stock_{kind}'"),  # its codes: test_stock_movements_built_...
}


def _literals(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _scan() -> tuple[dict[str, set[str]], list[str]]:
    found: dict[str, set[str]] = {}
    dynamic: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        where = path.relative_to(SOURCE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            index = ACTION_ARGUMENT.get(name)
            if index is None or len(node.args) <= index:
                continue
            argument = node.args[index]
            codes = _literals(argument)
            if codes is None:
                if (where, ast.unparse(argument)) not in PASS_THROUGH:
                    dynamic.append(f"{where}:{node.lineno}: {ast.unparse(argument)}")
                continue
            for code in codes:
                found.setdefault(code, set()).add(where)
    return found, dynamic


def test_the_scan_finds_the_actions_of_every_app():
    found, _ = _scan()
    for code in ("dose_record", "inpatient_admit", "create", "access_denied", "login"):
        assert code in found
    assert {"staff_reactivated", "staff_deactivated", "identity_add", "identity_update"} <= set(
        found
    )
    assert len(found) > 90


def test_every_action_code_in_the_source_has_a_label():
    found, _ = _scan()
    missing = {code: sorted(where) for code, where in found.items() if code not in LABELS}
    assert not missing, f"add these action codes to pingan/audit/labels.py: {missing}"


def test_no_action_code_is_built_where_the_scan_cannot_see_it():
    _, dynamic = _scan()
    assert not dynamic, f"pass the action code as a literal: {dynamic}"


def test_stock_movements_built_from_the_entry_kind_have_labels():
    """stock.py writes f"stock_{kind}" for the take-home kinds: a literal scan misses them."""
    for kind in (StockEntryKind.TAKEHOME, StockEntryKind.RETURN):
        assert f"stock_{kind}" in LABELS


def test_an_unknown_code_is_shown_as_itself():
    assert label("something_new") == "something_new"
    with translation.override("zh-hans"):
        assert label("dose_record") == "发药"
        assert label("inpatient_admit") == "脱毒病区入院"
    with translation.override("en"):
        assert label("dose_record") == "Dose given"
        assert choices(["login", "something_new"])[0] == ("login", "Signed in")


@pytest.mark.django_db
def test_list_and_filter_show_labels_not_codes(client_as):
    record("dose_record", client_code="PA111111")
    record("inpatient_admit", client_code="PA222222")
    record("from_an_older_version", client_code="PA333333")
    web = client_as("manager")
    page = web.get(reverse("audit:list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">发药</td>" in page and ">脱毒病区入院</td>" in page
    assert ">from_an_older_version</td>" in page
    assert ">dose_record</td>" not in page and ">inpatient_admit</td>" not in page
    assert '<option value="dose_record">发药</option>' in page
    assert '<option value="inpatient_admit">脱毒病区入院</option>' in page
    english = web.get(
        reverse("audit:list"), {"action": "dose_record"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert ">Dose given</td>" in english and "PA222222" not in english.split("<tbody>")[1]
    assert '<option value="dose_record" selected>Dose given</option>' in english
