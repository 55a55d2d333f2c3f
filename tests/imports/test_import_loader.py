"""The legacy CSV import: all or nothing, every bad row listed, identity encrypted."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.audit.models import AuditEntry
from pingan.core.crypto import keyring
from pingan.dosing.models import Dose, Product, StockEntry
from pingan.imports.loader import ImportRejected, load_directory
from pingan.labs.models import InfectionTest, UrineSample
from pingan.registry.models import Client, Episode, Identity

GOOD = {
    "clients.csv": (
        "code,alias,sex,birth_year,enrolled_on,name,national_id,phone,address\n"
        "C001,老王,M,1975,2025-01-02,王建国,110101197501020011,13900000001,北京市东城区\n"
        "C002,Lily,F,1988,2025-02-01,,,,\n"
        'C003,"Zhang, Jr",x,1990,2025-03-01,,,,\n'
    ),
    "doses.csv": (
        "client_code,date,mg,kind\n"
        "C001,2025-01-02,30,clinic\n"
        "C001,2025-01-03,35,clinic\n"
        "C001,2025-01-04,35,takehome\n"
        "C002,2025-02-01,20,clinic\n"
        "C003,2025-03-01,25,clinic\n"
    ),
    "urine.csv": (
        "client_code,date,analyte,result\n"
        "C001,2025-01-10,opiates,negative\n"
        "C001,2025-01-10,morphine,positive\n"
        "C001,2025-01-10,methadone,positive\n"
        "C002,2025-02-10,opiates,negative\n"
    ),
    "tests.csv": "client_code,date,test,result\nC001,2025-01-05,hiv,negative\nC002,2025-02-05,hcv,positive\n",
    "discharges.csv": "client_code,date,reason\nC003,2025-03-20,转到其他中心\n",
}


def write_dir(root: Path, files: dict[str, str], *, bom: bool = False, crlf: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if crlf:
            text = text.replace("\n", "\r\n")
        (root / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return root


def counts() -> dict[str, int]:
    return {
        "clients": Client.objects.count(),
        "episodes": Episode.objects.count(),
        "doses": Dose.objects.count(),
        "samples": UrineSample.objects.count(),
        "tests": InfectionTest.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.django_db
def test_good_directory_loads_everything(tmp_path):
    Product.objects.create(name="Methadone oral solution", strength_mg_per_ml=Decimal("5"))
    report = load_directory(write_dir(tmp_path / "in", GOOD), progress=False)
    assert report.rows == {
        "clients.csv": 3,
        "doses.csv": 5,
        "urine.csv": 4,
        "tests.csv": 2,
        "discharges.csv": 1,
    }
    assert report.created["urine_samples"] == 2 and report.created["urine_results"] == 4
    assert counts()["clients"] == 3 and Identity.objects.count() == 1
    assert Client.objects.get(code="C003").sex == "X"

    home = Dose.objects.get(client__code="C001", date=date(2025, 1, 4))
    assert (home.kind, home.mg_taken_home, home.mg_in_clinic) == ("takehome", 35, 0)
    assert home.strength_mg_per_ml == Decimal("5") and home.volume_ml == Decimal("7.00")
    assert timezone.localtime(home.given_at).time() == time(9, 0)
    assert not StockEntry.objects.exists()  # historic stock is unknown: no ledger lines

    sample = UrineSample.objects.get(client__code="C001")
    assert dict(sample.results.values_list("analyte", "result")) == {
        "opiates": "negative",
        "morphine": "positive",
        "methadone": "positive",
    }
    closed = Episode.objects.get(client__code="C003")
    assert closed.discharged_on == date(2025, 3, 20)
    assert (closed.discharge_reason, closed.discharge_note) == ("other", "转到其他中心")
    assert Episode.objects.get(client__code="C001").discharged_on is None

    entries = list(AuditEntry.objects.filter(action="import"))
    assert len(entries) == 1 and entries[0].detail["created"]["doses"] == 5


@pytest.mark.django_db
def test_identity_is_encrypted_at_rest(tmp_path):
    load_directory(write_dir(tmp_path / "in", GOOD), progress=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, national_id, phone, address FROM registry_identity")
        raw = cursor.fetchone()
    prefix = keyring().current_id + ":"
    assert all(value.startswith(prefix) for value in raw)
    assert "王建国" not in "".join(raw) and "110101197501020011" not in "".join(raw)
    identity = Identity.objects.get(client__code="C001")
    assert identity.name == "王建国" and identity.address == "北京市东城区"
    assert identity.national_id_index == keyring().hmac_index("110101197501020011")


@pytest.mark.django_db
def test_bom_crlf_and_chinese(tmp_path):
    report = load_directory(write_dir(tmp_path / "in", GOOD, bom=True, crlf=True), progress=False)
    assert report.rows["clients.csv"] == 3
    assert Client.objects.get(code="C001").alias == "老王"
    assert Client.objects.get(code="C003").alias == "Zhang, Jr"


BAD = {
    "clients.csv": (
        "code,alias,sex,birth_year,enrolled_on\n"
        "C001,老王,M,1975,2025-01-02\n"
        "C002,Lily,Q,1988,2025-02-01\n"  # line 3: sex
        "C003,Mei,F,1990,2025-13-01\n"  # line 4: bad date
        "C004,Hu,F,1991,2999-01-01\n"  # line 5: future date
    ),
    "doses.csv": (
        "client_code,date,mg,kind\n"
        "C001,2025-01-02,30,clinic\n"
        "C001,2025-01-02,30,clinic\n"  # line 3: duplicate
        "C001,2025-01-03,500,clinic\n"  # line 4: mg out of range
        "C999,2025-01-03,30,clinic\n"  # line 5: unknown client
        "C001,2024-12-01,30,clinic\n"  # line 6: before enrolment
        "C001,2025-01-05,30,bottle\n"  # line 7: kind
        "C002,2025-02-02,30,clinic\n"  # client row is bad: reported once, there
    ),
    "urine.csv": "client_code,date,analyte,result\nC001,2025-01-10,heroin,positive\n",
    "tests.csv": "client_code,date,test,result\nC001,2025-01-05,hiv,maybe\n",
    "discharges.csv": "client_code,date,reason\nC001,2024-12-31,completed\n",
}


@pytest.mark.django_db
def test_bad_rows_in_every_file_are_all_listed_and_nothing_written(tmp_path):
    before = counts()
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        load_directory(write_dir(tmp_path / "in", BAD), progress=False)
    where = {(e.file, e.line, e.column) for e in caught.value.errors}
    assert where == {
        ("clients.csv", 3, "sex"),
        ("clients.csv", 4, "enrolled_on"),
        ("clients.csv", 5, "enrolled_on"),
        ("doses.csv", 3, "date"),
        ("doses.csv", 4, "mg"),
        ("doses.csv", 5, "client_code"),
        ("doses.csv", 6, "date"),
        ("doses.csv", 7, "kind"),
        ("urine.csv", 2, "analyte"),
        ("tests.csv", 2, "result"),
        ("discharges.csv", 2, "date"),
    }
    reasons = {(e.file, e.line): e.reason for e in caught.value.errors}
    assert "future" in reasons[("clients.csv", 5)]
    assert "outside any treatment episode" in reasons[("doses.csv", 6)]
    assert "before enrolment" in reasons[("discharges.csv", 2)]
    assert counts() == before


@pytest.mark.django_db
def test_existing_client_code_is_an_error_not_a_merge(tmp_path):
    load_directory(write_dir(tmp_path / "a", {"clients.csv": GOOD["clients.csv"]}), progress=False)
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        load_directory(
            write_dir(tmp_path / "b", {"clients.csv": GOOD["clients.csv"]}), progress=False
        )
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (2, "code"),
        (3, "code"),
        (4, "code"),
    ]
    assert "already exists" in caught.value.errors[0].reason


@pytest.mark.django_db
def test_later_files_may_refer_to_clients_already_in_the_database(tmp_path):
    load_directory(write_dir(tmp_path / "a", {"clients.csv": GOOD["clients.csv"]}), progress=False)
    more = {
        "doses.csv": "client_code,date,mg,kind\nC002,2025-02-03,20,clinic\n",
        "discharges.csv": "client_code,date,reason\nC002,2025-02-10,completed\n",
    }
    load_directory(write_dir(tmp_path / "b", more), progress=False)
    episode = Episode.objects.get(client__code="C002")
    assert (episode.discharged_on, episode.discharge_reason) == (date(2025, 2, 10), "completed")
    again = {"doses.csv": "client_code,date,mg,kind\nC002,2025-02-03,20,clinic\n"}
    with translation.override("en"), pytest.raises(ImportRejected) as caught:
        load_directory(write_dir(tmp_path / "c", again), progress=False)
    assert "already has a dose" in caught.value.errors[0].reason


@pytest.mark.django_db
def test_missing_column_and_not_utf8(tmp_path):
    root = write_dir(tmp_path / "in", {"doses.csv": "client_code,date,mg\nC001,2025-01-01,30\n"})
    (root / "tests.csv").write_bytes(
        "client_code,date,test,result\n王,2025-01-01,hiv,negative\n".encode("gb18030")
    )
    with pytest.raises(ImportRejected) as caught:
        load_directory(root, progress=False)
    found = {(e.file, e.line, e.column) for e in caught.value.errors}
    assert ("doses.csv", 1, "kind") in found
    assert ("tests.csv", 2, "") in found


@pytest.mark.django_db
def test_command_prints_every_bad_row_and_exits_1(tmp_path, capsys):
    root = write_dir(tmp_path / "in", BAD)
    with pytest.raises(CommandError) as caught:
        call_command("import", str(root), "--no-progress")
    assert caught.value.returncode == 1
    err = capsys.readouterr().err
    assert "doses.csv:4: mg:" in err and "discharges.csv:2: date:" in err
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_command_loads_a_good_directory(tmp_path, capsys):
    call_command("import", str(write_dir(tmp_path / "in", GOOD)), "--no-progress")
    assert "doses.csv: 5" in capsys.readouterr().out
    assert Dose.objects.count() == 5


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mg=st.text(alphabet="0123456789-. x", max_size=5))
@pytest.mark.django_db
def test_any_mg_cell_is_either_a_valid_dose_or_an_error_at_that_cell(tmp_path_factory, mg):
    root = tmp_path_factory.mktemp("mg")
    files = {
        "clients.csv": "code,alias,sex,birth_year,enrolled_on\nC001,A,M,1975,2025-01-02\n",
        "doses.csv": f"client_code,date,mg,kind\nC001,2025-01-03,{mg},clinic\n",
    }
    try:
        load_directory(write_dir(root, files), progress=False)
    except ImportRejected as rejected:
        assert [(e.file, e.line, e.column) for e in rejected.errors] == [("doses.csv", 2, "mg")]
        assert not Client.objects.exists()
    else:
        # Accepted only when the cell is a whole number in range, stored exactly as written.
        assert Dose.objects.get().mg == int(mg.strip()) and 1 <= int(mg.strip()) <= 400
        Dose.objects.all().delete()
        Episode.objects.all().delete()
        Client.objects.all().delete()
