"""An import fills one centre of the region: client codes are looked up in that centre only,
and a person in treatment at another centre is a bad row (file, line, column)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pingan.core.models import Centre
from pingan.imports.loader import ImportRejected, load_directory
from pingan.imports.validate import national_id_index
from pingan.registry.models import Client, Episode, Identity

pytestmark = pytest.mark.django_db

OTHER_ID = "11010519491231002X"


def write_clients(root: Path, body: str) -> Path:
    (root / "clients.csv").write_text(
        "code,alias,sex,birth_year,enrolled_on,name,national_id,phone,address\n" + body,
        encoding="utf-8",
    )
    return root


@pytest.fixture
def two_centres():
    a = Centre.objects.create(code="CA", name="Centre A")
    b = Centre.objects.create(code="CB", name="Centre B")
    return a, b


def test_codes_are_per_centre(two_centres, tmp_path):
    a, b = two_centres
    Client.objects.create(centre=a, code="C001", alias="a", sex="M", birth_year=1970)
    write_clients(tmp_path, "C001,b,M,1975,2025-01-02,,,,\n")
    (tmp_path / "doses.csv").write_text("client_code,date,mg,kind\nC001,2025-01-02,30,clinic\n")
    report = load_directory(tmp_path, progress=False, centre=b)
    assert report.created["clients"] == 1 and report.created["doses"] == 1
    imported = Client.objects.get(centre=b, code="C001")
    assert imported.alias == "b"
    assert Client.objects.get(centre=a, code="C001").alias == "a"


def test_person_in_treatment_elsewhere_is_a_bad_row_and_nothing_is_written(two_centres, tmp_path):
    a, b = two_centres
    treated = Client.objects.create(centre=a, code="A1", alias="a", sex="F", birth_year=1949)
    Episode.objects.create(client=treated, enrolled_on="2025-01-01")
    Identity.objects.create(
        client=treated, national_id=OTHER_ID, national_id_index=national_id_index(OTHER_ID)
    )
    write_clients(
        tmp_path,
        "C001,ok,M,1975,2025-01-02,,,,\n"
        f"C002,clash,F,1949,2025-02-01,,{OTHER_ID.lower()},,\n"
        f"C003,history,F,1949,2024-02-01,,{OTHER_ID},,\n",
    )
    (tmp_path / "discharges.csv").write_text("client_code,date,reason\nC003,2024-03-01,moved\n")
    with pytest.raises(ImportRejected) as rejected:
        load_directory(tmp_path, progress=False, centre=b)
    assert [(e.file, e.line, e.column) for e in rejected.value.errors] == [
        ("clients.csv", 3, "national_id")
    ]
    assert "Centre A (CA)" in str(rejected.value.errors[0])
    assert not Client.objects.filter(centre=b).exists()


def test_the_command_takes_the_centre_by_its_code(two_centres, tmp_path):
    a, b = two_centres
    write_clients(tmp_path, "C001,b,M,1975,2025-01-02,,,,\n")
    with pytest.raises(CommandError):
        call_command("import", str(tmp_path), "--centre", "NOPE", "--no-progress")
    assert not Client.objects.exists()
    call_command("import", str(tmp_path), "--centre", "CB", "--no-progress", stdout=StringIO())
    assert list(Client.objects.values_list("centre__code", "code")) == [("CB", "C001")]
