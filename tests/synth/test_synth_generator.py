"""The synthetic centre: reproducible, in the import format, valid, and realistic enough."""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from pingan.synth.generator import CentreSpec, generate
from pingan.synth.identity import national_id_check_digit, national_id_is_valid

START = date(2025, 1, 1)
DAYS = 300
END = START + timedelta(days=DAYS - 1)
IMPORT_FILES = ("clients.csv", "doses.csv", "urine.csv", "tests.csv", "discharges.csv")


def synth(out: Path, *extra: str, clients: int = 200, seed: int = 7) -> None:
    call_command(
        "synth",
        "--clients",
        str(clients),
        "--days",
        str(DAYS),
        "--out",
        str(out),
        "--seed",
        str(seed),
        "--start",
        START.isoformat(),
        "--no-progress",
        *extra,
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def centre(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("centre")
    synth(out, "--format", "both")
    return out


def test_same_seed_gives_the_same_bytes(centre, tmp_path):
    synth(tmp_path)
    for name in (*IMPORT_FILES, "reenrolments.csv"):
        assert (tmp_path / name).read_bytes() == (centre / name).read_bytes(), name


def test_another_seed_gives_another_centre(centre, tmp_path):
    synth(tmp_path, seed=8)
    assert (tmp_path / "doses.csv").read_bytes() != (centre / "doses.csv").read_bytes()
    assert (tmp_path / "clients.csv").read_bytes() != (centre / "clients.csv").read_bytes()


def test_headers_are_exactly_the_import_format(centre):
    expected = {
        "clients.csv": "code,alias,sex,birth_year,enrolled_on,name,national_id,phone,address",
        "doses.csv": "client_code,date,mg,kind",
        "urine.csv": "client_code,date,analyte,result",
        "tests.csv": "client_code,date,test,result",
        "discharges.csv": "client_code,date,reason",
    }
    for name, header in expected.items():
        first = (centre / name).read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == header, name


def test_values_are_valid(centre):
    clients = rows(centre / "clients.csv")
    assert len(clients) == 200
    assert len({c["code"] for c in clients}) == 200
    assert {c["sex"] for c in clients} <= {"M", "F", "X"}
    assert all(1960 <= int(c["birth_year"]) <= 2000 for c in clients)
    assert all(date.fromisoformat(c["enrolled_on"]) <= END for c in clients)
    assert all(c["alias"] for c in clients)
    doses = rows(centre / "doses.csv")
    assert doses and {d["kind"] for d in doses} == {"clinic", "takehome"}
    assert all(1 <= int(d["mg"]) <= 120 for d in doses)
    # Below 30 mg only at the end of a taper.
    assert sum(int(d["mg"]) < 30 for d in doses) < len(doses) * 0.01
    urine = rows(centre / "urine.csv")
    assert {u["analyte"] for u in urine} == {"opiates", "morphine", "methadone"}
    assert {u["result"] for u in urine} == {"positive", "negative"}
    tests = rows(centre / "tests.csv")
    assert {t["test"] for t in tests} == {"hiv", "hcv", "tb"}
    assert {t["result"] for t in tests} <= {"positive", "negative"}
    reasons = {d["reason"] for d in rows(centre / "discharges.csv")}
    assert reasons and reasons <= {
        "completed",
        "transferred",
        "dropped_out",
        "detained",
        "moved",
        "died",
        "rules",
        "other",
    }
    for name in ("doses.csv", "urine.csv", "tests.csv", "discharges.csv"):
        for row in rows(centre / name):
            assert START <= date.fromisoformat(row["date"]) <= END, (name, row)


def test_doses_fall_inside_treatment_once_a_day(centre):
    """At most one dose per client per day, none before enrolment, none on or after a
    discharge, none during a break before re-enrolment; samples and tests likewise."""
    enrolled = {
        c["code"]: date.fromisoformat(c["enrolled_on"]) for c in rows(centre / "clients.csv")
    }
    discharged = {
        d["client_code"]: date.fromisoformat(d["date"]) for d in rows(centre / "discharges.csv")
    }
    breaks = [
        (
            r["client_code"],
            date.fromisoformat(r["discharged_on"]),
            date.fromisoformat(r["reenrolled_on"]),
        )
        for r in rows(centre / "reenrolments.csv")
    ]
    assert breaks, "the sample should include a return to treatment"

    def in_treatment(code: str, day: date) -> bool:
        if day < enrolled[code] or (code in discharged and day >= discharged[code]):
            return False
        return not any(c == code and left <= day < back for c, left, back in breaks)

    seen = Counter((d["client_code"], d["date"]) for d in rows(centre / "doses.csv"))
    assert max(seen.values()) == 1
    for name in ("doses.csv", "urine.csv", "tests.csv"):
        for row in rows(centre / name):
            assert in_treatment(row["client_code"], date.fromisoformat(row["date"])), (name, row)


def test_identities_are_well_formed(centre):
    clients = [c for c in rows(centre / "clients.csv") if c["national_id"]]
    assert 0.4 < len(clients) / 200 < 0.8
    for c in clients:
        number = c["national_id"]
        assert national_id_is_valid(number), number
        assert number[6:10] == c["birth_year"]
        assert int(number[16]) % 2 == (0 if c["sex"] == "F" else 1)
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c["name"])
        assert c["phone"] == "" or re.fullmatch(r"\+861\d{10}", c["phone"])
    assert not any(c["name"] for c in rows(centre / "clients.csv") if not c["national_id"])


def test_check_digit_matches_a_published_example():
    # The example number of GB 11643-1999.
    assert national_id_check_digit("11010519491231002") == "X"
    assert not national_id_is_valid("110105194912310021")


def test_parquet_holds_the_same_tables(centre):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name in IMPORT_FILES:
        table = pq.read_table(centre / name.replace(".csv", ".parquet"))
        assert table.num_rows == len(rows(centre / name)), name
    doses = pq.read_table(centre / "doses.parquet")
    assert doses.schema.field("date").type == pa.date32()
    assert doses.column_names == ["client_code", "date", "mg", "kind"]
    first = rows(centre / "doses.csv")[0]
    assert doses.slice(0, 1).to_pylist()[0] == {
        "client_code": first["client_code"],
        "date": date.fromisoformat(first["date"]),
        "mg": int(first["mg"]),
        "kind": first["kind"],
    }


def test_the_centre_looks_like_the_field_study():
    """About 90% men; most attend 85-99% of days; about 70 of 250 on take-home at the end;
    opioid-positive samples fall with time in treatment; HCV common, HIV a few percent."""
    spec = CentreSpec(clients=1000, days=365, start=START, seed=3)
    men = takehome = 0
    adherence, early, late, first_tests = [], [], [], {"hiv": [], "hcv": []}
    for client in generate(spec):
        men += client.sex == "M"
        takehome += any(k == "takehome" for d, _, k in client.doses if d >= 305)
        for episode in client.episodes:
            first = max(episode.enrolled, 0)
            last = episode.discharged if episode.discharged is not None else 365
            if last - first >= 60:
                dosed = sum(1 for d, _, _ in client.doses if first <= d < last)
                adherence.append(dosed / (last - first))
        for day, analyte, result in client.urine:
            if analyte == "opiates":
                tenure = day - max(e.enrolled for e in client.episodes if e.enrolled <= day)
                (early if tenure < 90 else late if tenure >= 365 else []).append(
                    result == "positive"
                )
        for test in ("hiv", "hcv"):
            results = [r for _, t, r in client.tests if t == test]
            if results:
                first_tests[test].append(results[0] == "positive")
    assert 0.86 < men / 1000 < 0.94
    assert 0.2 < takehome / 1000 < 0.4
    assert 0.85 < statistics.median(adherence) < 0.99
    assert statistics.mean(early) > 2 * statistics.mean(late)
    assert 0.5 < statistics.mean(first_tests["hcv"]) < 0.7
    assert 0.01 < statistics.mean(first_tests["hiv"]) < 0.1
