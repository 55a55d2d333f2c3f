"""One bad row among a thousand: the import names that row and writes nothing (issue 2), and a
failure while writing leaves nothing half-written either."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pingan.audit.models import AuditEntry
from pingan.dosing.models import Dose, StockEntry
from pingan.imports import write as import_write
from pingan.imports.loader import ImportRejected, load_directory
from pingan.labs.models import InfectionTest, UrineSample
from pingan.registry.models import Client, Episode, Identity

pytestmark = pytest.mark.django_db

START = date(2024, 1, 1)
BAD_LINE = 538  # the line number in doses.csv, header = line 1


def thousand(root: Path, bad: str | None) -> Path:
    """Ten clients with identity, 1,000 dose rows; row `BAD_LINE` replaced by `bad`."""
    root.mkdir()
    clients = ["code,alias,sex,birth_year,enrolled_on,name,national_id,phone,address"]
    clients += [
        f"T{i:03d},alias {i},M,1980,{START.isoformat()},姓名{i},,1390000{i:04d}," for i in range(10)
    ]
    doses = ["client_code,date,mg,kind"]
    doses += [
        f"T{n % 10:03d},{(START + timedelta(days=n // 10)).isoformat()},60,clinic"
        for n in range(1000)
    ]
    if bad is not None:
        doses[BAD_LINE - 1] = bad
    (root / "clients.csv").write_text("\n".join(clients) + "\n", encoding="utf-8")
    (root / "doses.csv").write_text("\n".join(doses) + "\n", encoding="utf-8")
    (root / "tests.csv").write_text(
        "client_code,date,test,result\nT001,2024-02-01,hiv,negative\n", encoding="utf-8"
    )
    return root


def counts() -> dict[str, int]:
    models = [Client, Identity, Episode, Dose, StockEntry, UrineSample, InfectionTest, AuditEntry]
    return {model.__name__: model.objects.count() for model in models}


def test_one_bad_row_in_a_thousand_writes_nothing_and_names_the_row(tmp_path):
    before = counts()
    root = thousand(tmp_path / "in", "T003,2024-02-30,60,clinic")
    with pytest.raises(ImportRejected) as caught:
        load_directory(root, progress=False)
    assert [(e.file, e.line, e.column) for e in caught.value.errors] == [
        ("doses.csv", BAD_LINE, "date")
    ]
    assert counts() == before

    with pytest.raises(CommandError) as failed:
        call_command("import", str(root), "--no-progress")
    assert failed.value.returncode == 1
    assert counts() == before


def test_the_same_thousand_rows_load_when_all_are_good(tmp_path):
    load_directory(thousand(tmp_path / "in", None), progress=False)
    assert Dose.objects.count() == 1000 and Client.objects.count() == 10


def test_a_failure_while_writing_rolls_everything_back(tmp_path, monkeypatch):
    """Validation passed, then the database failed half way (disk full, a lost connection):
    the clients and doses already inserted go too."""
    before = counts()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(import_write, "_write_urine", broken)
    monkeypatch.setattr(import_write, "_write_doses", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load_directory(thousand(tmp_path / "in", None), progress=False)
    assert counts() == before
