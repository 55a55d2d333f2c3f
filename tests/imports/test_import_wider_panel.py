"""The import takes the wider panel (docs/import-format.md): every analyte and every
infection test the labs page knows, and refuses any other name at its file, line and
column, writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from pingan.imports.loader import ImportRejected, load_directory
from pingan.labs.models import Analyte, InfectionTest, UrineResult, UrineSample
from pingan.labs.models import TestKind as Kind
from pingan.registry.models import Client

pytestmark = pytest.mark.django_db

CLIENTS = "code,alias,sex,birth_year,enrolled_on\nC001,老王,M,1975,2025-01-02\n"
NEW_ANALYTES = ("benzodiazepines", "tramadol", "fentanyl", "buprenorphine", "eddp", "methadone")
NEW_TESTS = ("syphilis", "hbv")


def write_dir(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def nothing_written() -> bool:
    return not (
        Client.objects.exists() or UrineSample.objects.exists() or InfectionTest.objects.exists()
    )


@pytest.mark.parametrize("analyte", NEW_ANALYTES)
def test_each_new_analyte_is_imported(tmp_path, analyte):
    urine = f"client_code,date,analyte,result\nC001,2025-01-10,{analyte},positive\n"
    load_directory(
        write_dir(tmp_path / "in", {"clients.csv": CLIENTS, "urine.csv": urine}), progress=False
    )
    sample = UrineSample.objects.get(client__code="C001")
    assert dict(sample.results.values_list("analyte", "result")) == {analyte: "positive"}


@pytest.mark.parametrize("test", NEW_TESTS)
def test_each_new_test_is_imported(tmp_path, test):
    tests = f"client_code,date,test,result\nC001,2025-01-05,{test},positive\n"
    load_directory(
        write_dir(tmp_path / "in", {"clients.csv": CLIENTS, "tests.csv": tests}), progress=False
    )
    row = InfectionTest.objects.get(client__code="C001")
    assert (row.test, row.result, row.tested_on.isoformat()) == (test, "positive", "2025-01-05")


def test_the_whole_panel_is_one_sample_and_names_are_case_blind(tmp_path):
    lines = [f"C001,2025-01-10,{a.upper()},negative" for a in Analyte.values]
    tests = [f"C001,2025-01-05,{t},negative" for t in Kind.values]
    files = {
        "clients.csv": CLIENTS,
        "urine.csv": "client_code,date,analyte,result\n" + "\n".join(lines) + "\n",
        "tests.csv": "client_code,date,test,result\n" + "\n".join(tests) + "\n",
    }
    report = load_directory(write_dir(tmp_path / "in", files), progress=False)
    assert report.created["urine_samples"] == 1
    assert report.created["urine_results"] == len(Analyte.values) == 11
    assert set(UrineResult.objects.values_list("analyte", flat=True)) == set(Analyte.values)
    assert set(InfectionTest.objects.values_list("test", flat=True)) == set(Kind.values)
    assert UrineSample.objects.values_list("opioid", flat=True).get() == 0


def test_an_unknown_analyte_or_test_is_refused_at_its_cell_and_nothing_written(tmp_path):
    files = {
        "clients.csv": CLIENTS,
        "urine.csv": (
            "client_code,date,analyte,result\n"
            "C001,2025-01-10,fentanyl,positive\n"
            "C001,2025-01-10,heroin,positive\n"  # line 3
            "C001,2025-01-11,benzo,negative\n"  # line 4
        ),
        "tests.csv": (
            "client_code,date,test,result\n"
            "C001,2025-01-05,hbv,negative\n"
            "C001,2025-01-05,hiv2,negative\n"  # line 3
        ),
    }
    root = write_dir(tmp_path / "in", files)
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        load_directory(root, progress=False)
    errors = caught.value.errors
    assert [(e.file, e.line, e.column) for e in errors] == [
        ("tests.csv", 3, "test"),
        ("urine.csv", 3, "analyte"),
        ("urine.csv", 4, "analyte"),
    ]
    assert str(errors[0]) == "tests.csv:3: test: 'hiv2' is not one of hiv, hbv, hcv, syphilis, tb"
    assert str(errors[1]) == (
        "urine.csv:3: analyte: 'heroin' is not one of opiates, morphine, fentanyl, tramadol, "
        "buprenorphine, methadone, eddp, benzodiazepines, amphetamines, methamphetamine, ketamine"
    )
    docs = (Path(__file__).resolve().parents[2] / "docs" / "import-format.md").read_text()
    assert f"test: {errors[0].reason}" in docs and f"analyte: {errors[1].reason}" in docs
    assert nothing_written()

    with translation.override("zh-hans"), pytest.raises(ImportRejected) as caught:
        load_directory(root, progress=False)
    assert "'benzo'" in caught.value.errors[2].reason
    assert "不是" in caught.value.errors[2].reason
    assert nothing_written()


def test_the_documented_lists_are_the_models_lists():
    text = (Path(__file__).resolve().parents[2] / "docs" / "import-format.md").read_text()
    for value in (*Analyte.values, *Kind.values):
        assert f"| `{value}` |" in text, value
