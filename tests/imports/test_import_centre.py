"""An import fills one centre of the region: client codes are looked up in that centre only,
and a person in treatment at another centre is a bad row (file, line, column)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from pingan.core.models import Centre
from pingan.imports.loader import ImportRejected, load_directory
from pingan.registry.actions import national_id_index, phone_index
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


@pytest.fixture
def treated_by_phone(two_centres):
    """A client of centre A in treatment, known by the phone number only."""
    a, b = two_centres
    treated = Client.objects.create(centre=a, code="A7", alias="a", sex="M", birth_year=1980)
    Episode.objects.create(client=treated, enrolled_on="2025-01-01")
    Identity.objects.create(
        client=treated, phone="+8613912345678", phone_index=phone_index("13912345678")
    )
    return treated


def test_a_row_without_id_number_whose_phone_is_treated_elsewhere_is_a_bad_row(
    two_centres, treated_by_phone, tmp_path
):
    a, b = two_centres
    write_clients(
        tmp_path,
        "C001,ok,M,1975,2025-01-02,,,13800138000,\n"
        # The same number written another way gives the same keyed index.
        "C002,clash,M,1980,2025-02-01,,,+86 139 1234 5678,\n",
    )
    with translation.override("en"), pytest.raises(ImportRejected) as rejected:
        load_directory(tmp_path, progress=False, centre=b)
    (error,) = rejected.value.errors
    assert (error.file, error.line, error.column) == ("clients.csv", 3, "phone")
    assert "phone number is in treatment at centre Centre A (CA)" in error.reason
    assert not Client.objects.filter(centre=b).exists()
    assert not Identity.objects.exclude(client=treated_by_phone).exists()


def test_the_phone_refusal_is_in_the_users_language(two_centres, treated_by_phone, tmp_path):
    a, b = two_centres
    write_clients(tmp_path, "C002,clash,M,1980,2025-02-01,,,13912345678,\n")
    with translation.override("zh-hans"), pytest.raises(ImportRejected) as rejected:
        load_directory(tmp_path, progress=False, centre=b)
    assert "Centre A (CA)" in rejected.value.errors[0].reason
    assert "电话" in rejected.value.errors[0].reason


@pytest.mark.parametrize(
    "case",
    ["id_number_decides", "discharged_elsewhere", "same_centre", "discharged_by_the_import"],
)
def test_a_shared_phone_does_not_stop_the_row_when_the_rule_lets_it_through(
    two_centres, treated_by_phone, tmp_path, case
):
    """The document number alone decides when known (relatives share a phone); a person
    discharged elsewhere, or a client of the import's own centre, is no second enrolment."""
    a, b = two_centres
    number = OTHER_ID if case == "id_number_decides" else ""
    if case == "discharged_elsewhere":
        Episode.objects.filter(client=treated_by_phone).update(
            discharged_on="2025-06-01", discharge_reason="moved"
        )
    if case == "same_centre":
        Client.objects.filter(pk=treated_by_phone.pk).update(centre=b)
        Episode.objects.filter(client=treated_by_phone).update(centre=b)
    write_clients(tmp_path, f"C002,relative,F,1982,2025-02-01,,{number},13912345678,\n")
    if case == "discharged_by_the_import":
        (tmp_path / "discharges.csv").write_text("client_code,date,reason\nC002,2025-03-01,moved\n")
    report = load_directory(tmp_path, progress=False, centre=b)
    assert report.created["clients"] == 1
    assert Client.objects.filter(centre=b, code="C002").exists()
