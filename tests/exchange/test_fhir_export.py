"""`pingan fhir export` of the demo region: every resource is valid FHIR R4 (checked with the
`fhir.resources` models, not with the export's own code), every reference resolves inside
the export, nothing identifying is in the files, and the month's indicators recomputed
from the NDJSON alone, by DuckDB queries written here, equal `pingan indicators`."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest
from django.core.management import call_command
from django.utils import translation
from fhir.resources.R4B import get_fhir_model_class
from fhir_files import TODAY, read_ndjson

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.exchange.fhir import TYPES
from pingan.indicators.definitions import Period
from pingan.lockbox.models import Box
from pingan.lockbox.pin import pin_for
from pingan.referrals.models import PoliceReferral
from pingan.registry.models import Client, Identity

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def export(region, django_db_blocker, tmp_path_factory) -> Path:
    """The whole demo region exported once by the command, as an operator would."""
    folder = tmp_path_factory.mktemp("fhir") / "region"
    with django_db_blocker.unblock(), clock.frozen(TODAY):
        call_command("fhir", "export", "--out", str(folder), "--no-progress", stdout=io.StringIO())
    return folder


@pytest.fixture(scope="module")
def resources(export) -> dict[str, list[dict]]:
    return read_ndjson(export)


def test_every_type_is_exported_with_its_manifest(export, resources):
    assert set(resources) == set(TYPES), set(TYPES) ^ set(resources)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    listed = {o["type"]: o for o in manifest["output"]}
    assert set(listed) == set(TYPES)
    for name, rows in resources.items():
        assert listed[name]["count"] == len(rows) > 0
        assert (export / listed[name]["url"]).is_file()
    assert not [p for p in export.parent.iterdir() if ".partial-" in p.name]


def test_every_resource_validates_with_fhir_resources(resources):
    problems = []
    for name, rows in resources.items():
        model = get_fhir_model_class(name)
        for row in rows:
            assert row["resourceType"] == name
            try:
                model.model_validate_json(orjson.dumps(row))
            except Exception as exc:  # noqa: BLE001 - collected and shown together
                problems.append(f"{name}/{row.get('id')}: {str(exc)[:300]}")
    assert not problems, "\n".join(problems[:10])


def _references(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def test_ids_are_unique_and_every_reference_resolves(resources):
    known = set()
    for name, rows in resources.items():
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
        known.update(f"{name}/{i}" for i in ids)
    dangling = {
        ref
        for rows in resources.values()
        for row in rows
        for ref in _references(row)
        if ref not in known
    }
    assert not dangling, sorted(dangling)[:10]
    canonical = {row["url"] for row in resources["Measure"]}
    assert {r["measure"] for r in resources["MeasureReport"]} <= canonical


def test_client_level_resources_carry_security_labels(resources):
    for name, rows in resources.items():
        if name in ("Organization", "Practitioner", "Measure", "MeasureReport"):
            continue
        for row in rows:
            labels = {c["code"] for c in row["meta"]["security"]}
            assert {"ETH", "R"} <= labels, (name, row["id"])
    hiv_tests = [
        o
        for o in resources["Observation"]
        if o["code"].get("coding", [{}])[0].get("code") == "56888-1"
    ]
    assert hiv_tests and all("HIV" in {c["code"] for c in o["meta"]["security"]} for o in hiv_tests)


def test_patients_are_pseudonymous(resources):
    codes = set(Client.objects.values_list("code", flat=True))
    for patient in resources["Patient"]:
        assert set(patient) <= {
            "resourceType",
            "id",
            "meta",
            "identifier",
            "gender",
            "birthDate",
            "managingOrganization",
        }
        assert len(patient["birthDate"]) == 4  # the year only
        assert [i["value"] for i in patient["identifier"]][0] in codes
    assert {p["id"] for p in resources["Patient"]} == {
        str(x) for x in Client.objects.values_list("external_id", flat=True)
    }


def _identity_values() -> list[str]:
    values = []
    for i in Identity.objects.all():
        values += [i.name, i.national_id, i.phone, i.address]
        if i.phone.startswith("+86"):
            values.append(i.phone[3:])
    for r in PoliceReferral.objects.all():
        values += [r.person_name, r.person_contact]
    values += list(Client.objects.values_list("alias", flat=True))
    return [v for v in values if len(v) >= 2]


def test_no_identity_pin_or_box_secret_in_any_file(export, in_region):
    identity = _identity_values()
    assert len(identity) > 20  # the demo has identities to leak
    boxes = list(Box.objects.all())
    assert boxes
    today = clock.today()
    secrets = [b.secret for b in boxes] + [b.secret.upper() for b in boxes]
    # Every box's PIN for every day of the last year, as it would appear in JSON.
    pins = {
        pin_for(b.secret, today - timedelta(days=n)).encode() for b in boxes for n in range(366)
    }
    # Six-digit numbers as JSON would write them, string or number, found once per file.
    numbers = re.compile(rb'"([0-9]{6})"|[:\[,]([0-9]{6})[,\]}]')
    found = []
    for path in export.iterdir():
        data = path.read_bytes()
        found += [f"{path.name}: identity {v!r}" for v in identity if v.encode() in data]
        found += [f"{path.name}: box secret" for s in secrets if s.encode() in data]
        written = {a or b for a, b in numbers.findall(data)}
        found += [f"{path.name}: PIN {p}" for p in sorted(written & pins)]
    assert not found, found[:10]


# The indicators from the NDJSON alone ------------------------------------------------------

VIEWS = """
CREATE VIEW ep AS SELECT
    json->>'$.patient.reference' AS client,
    CAST(json->>'$.period.start' AS DATE) AS enrolled_on,
    CAST(json->>'$.period.end' AS DATE) AS discharged_on
  FROM read_ndjson_objects('{dir}/EpisodeOfCare.ndjson');
CREATE VIEW dose AS
  SELECT json->>'$.subject.reference' AS client,
         CAST(substr(json->>'$.effectiveDateTime', 1, 10) AS DATE) AS day
    FROM read_ndjson_objects('{dir}/MedicationAdministration.ndjson')
  UNION ALL
  SELECT json->>'$.subject.reference',
         CAST(json->>'$.dosageInstruction[0].timing.event[0]' AS DATE)
    FROM read_ndjson_objects('{dir}/MedicationDispense.ndjson');
CREATE VIEW opioid AS SELECT
    json->>'$.specimen.reference' AS sample,
    CAST(json->>'$.effectiveDateTime' AS DATE) AS day,
    json->>'$.interpretation[0].coding[0].code' AS interpretation
  FROM read_ndjson_objects('{dir}/Observation.ndjson')
  WHERE json->>'$.code.coding[0].system' = 'http://loinc.org'
    AND json->>'$.code.coding[0].code' IN ('19295-5', '19597-4');  -- opiates, morphine
"""


def _from_ndjson(con, p: Period) -> dict[str, tuple[int, int | None]]:
    s, e = f"DATE '{p.start}'", f"DATE '{p.end}'"
    cohort = p.shift(-3)
    active = con.execute(f"SELECT count(DISTINCT client) FROM dose WHERE day BETWEEN {s} AND {e}")
    out = {"active_clients": (active.fetchone()[0], None)}
    out["adherence"] = con.execute(
        f"""WITH days AS (SELECT CAST(d AS DATE) AS day
                          FROM range({s}, {e} + 1, INTERVAL 1 DAY) t(d)),
            intreat AS (SELECT DISTINCT ep.client, days.day FROM ep JOIN days
                        ON days.day >= ep.enrolled_on
                        AND (ep.discharged_on IS NULL OR days.day < ep.discharged_on)),
            dosed AS (SELECT DISTINCT client, day FROM dose)
            SELECT count(dosed.client), count(*)
            FROM intreat LEFT JOIN dosed USING (client, day)"""
    ).fetchone()
    out["opiate_positive_rate"] = con.execute(
        f"""SELECT coalesce(sum(pos), 0), count(*) FROM (
              SELECT sample, max(CASE WHEN interpretation = 'POS' THEN 1 ELSE 0 END) AS pos
              FROM opioid WHERE day BETWEEN {s} AND {e} GROUP BY sample)"""
    ).fetchone()
    out["retention_3m"] = con.execute(
        f"""WITH co AS (
              SELECT client, discharged_on,
                     CAST(enrolled_on + INTERVAL 3 MONTH AS DATE) AS anchor
              FROM ep WHERE enrolled_on BETWEEN DATE '{cohort.start}' AND DATE '{cohort.end}'),
            kept AS (
              SELECT DISTINCT co.client FROM co JOIN dose ON dose.client = co.client
                AND dose.day BETWEEN co.anchor - 29 AND co.anchor
              WHERE co.discharged_on IS NULL OR co.discharged_on > co.anchor)
            SELECT (SELECT count(*) FROM kept), (SELECT count(DISTINCT client) FROM co)"""
    ).fetchone()
    return out


def _pingan_indicators(p: Period, *centre: str) -> dict:
    """`pingan indicators` for the month: the region pooled, or `--centre CODE`."""
    out = io.StringIO()
    extra = ["--centre", centre[0]] if centre else []
    call_command(
        "indicators", "--period", str(p), "--format", "json", "--no-progress", *extra, stdout=out
    )
    return json.loads(out.getvalue())["indicators"]


def test_indicators_recomputed_from_the_ndjson_equal_pingan_indicators(export, in_region):
    con = duckdb.connect()
    for statement in VIEWS.format(dir=export).split(";"):
        if statement.strip():
            con.execute(statement)
    last = Period.of(clock.today()).shift(-1)
    seen_retention = 0
    for p in last.last(12):
        mine = _from_ndjson(con, p)
        theirs = _pingan_indicators(p)
        for ind, (numerator, denominator) in mine.items():
            assert theirs[ind]["numerator"] == numerator, (str(p), ind, theirs[ind], numerator)
            assert theirs[ind]["denominator"] == denominator, (str(p), ind, theirs[ind])
        seen_retention += mine["retention_3m"][1]
        assert mine["active_clients"][0] > 0 and mine["adherence"][1] > 0
    assert seen_retention > 0  # at least one month had a cohort to retain


def test_measure_reports_carry_the_engine_figures(resources, in_region):
    last = Period.of(clock.today()).shift(-1)
    theirs = _pingan_indicators(last, "DEMO")  # each centre's reports carry its own figures
    reports = {r["id"]: r for r in resources["MeasureReport"]}
    for ind in ("adherence", "active_clients", "opiate_positive_rate"):
        report = reports[f"DEMO-{ind.replace('_', '-')}-{last}"]
        populations = {
            p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]
        }
        if ind == "active_clients":
            assert populations == {"initial-population": theirs[ind]["numerator"]}
        else:
            assert populations["numerator"] == theirs[ind]["numerator"]
            assert populations["denominator"] == theirs[ind]["denominator"]
            assert report["group"][0]["measureScore"]["value"] == pytest.approx(
                theirs[ind]["value"]
            )


def test_the_export_is_audited_with_types_centres_and_counts(export, resources):
    entry = AuditEntry.objects.filter(action="fhir_export").latest("pk")
    assert entry.role == "command" and entry.username.startswith("cli:")
    assert entry.detail["centres"] == ["DEMO", "DEMO2", "DEMO3"]  # the region's export
    assert set(entry.detail["types"]) == set(TYPES)
    assert entry.detail["resources"] == sum(len(rows) for rows in resources.values())


def test_since_exports_the_later_records_with_everything_they_refer_to(in_region, tmp_path):
    since = clock.today() - timedelta(days=30)
    call_command(
        "fhir",
        "export",
        "--out",
        str(tmp_path / "x"),
        "--since",
        since.isoformat(),
        "--types",
        "Patient,MedicationAdministration,MedicationDispense",
        "--no-progress",
        stdout=io.StringIO(),
    )
    found = read_ndjson(tmp_path / "x")
    assert set(found) == {"Patient", "MedicationAdministration", "MedicationDispense"}
    days = [
        date.fromisoformat(r["effectiveDateTime"][:10]) for r in found["MedicationAdministration"]
    ]
    assert days and min(days) >= since
    patients = {f"Patient/{p['id']}" for p in found["Patient"]}
    assert {r["subject"]["reference"] for r in found["MedicationAdministration"]} <= patients


def test_police_audience_gets_aggregates_with_small_cells_left_out(in_region, tmp_path):
    from pingan.indicators.queries import month
    from pingan.indicators.suppression import suppress_set

    call_command(
        "fhir",
        "export",
        "--out",
        str(tmp_path / "p"),
        "--audience",
        "police",
        "--no-progress",
        stdout=io.StringIO(),
    )
    found = read_ndjson(tmp_path / "p")
    assert set(found) == {"Organization", "Measure", "MeasureReport"}
    last = Period.of(clock.today()).shift(-1)
    shown = suppress_set(month(last)).results
    hidden = [k for k, r in shown.items() if r.suppressed]
    assert hidden  # a 30-client centre has small cells
    for ind in hidden:
        report = next(
            r for r in found["MeasureReport"] if r["id"] == f"DEMO-{ind.replace('_', '-')}-{last}"
        )
        group = (report.get("group") or [{}])[0]
        assert "measureScore" not in group
        counts = {p["code"]["coding"][0]["code"]: p["count"] for p in group.get("population", [])}
        if shown[ind].numerator is None:
            assert "numerator" not in counts and "initial-population" not in counts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--types", "Patient,Banana"], "Unknown resource type: Banana"),
        (["--since", "2026-13-01"], "is not a date"),
        (["--since", "yesterday"], "is not a date"),
        (["--since", "2030-01-01"], "is in the future"),
        (["--centre", "NOPE"], "No centre with the code 'NOPE'"),
        (["--audience", "police", "--types", "Patient"], "Not exported for this audience"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(in_region, tmp_path, args, message):
    from django.core.management.base import CommandError

    before = AuditEntry.objects.filter(action="fhir_export").count()
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("fhir", "export", "--out", str(tmp_path / "out"), "--no-progress", *args)
    assert list(tmp_path.iterdir()) == []
    assert AuditEntry.objects.filter(action="fhir_export").count() == before


def test_a_folder_in_use_is_refused(in_region, tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with translation.override("en"), pytest.raises(CommandError, match="not an empty folder"):
        call_command("fhir", "export", "--out", str(tmp_path / "out"), "--no-progress")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_an_export_that_fails_half_way_leaves_nothing(in_region, tmp_path, monkeypatch):
    from pingan.exchange import fhir

    source = fhir.BY_TYPE["Observation"]

    def broken(scope):
        yield from list(source.rows(scope))[:3]
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(
        fhir.BY_TYPE, "Observation", fhir.Source("Observation", broken, source.count)
    )
    before = AuditEntry.objects.filter(action="fhir_export").count()
    with pytest.raises(OSError):
        call_command("fhir", "export", "--out", str(tmp_path / "out"), "--no-progress")
    assert list(tmp_path.iterdir()) == []
    assert AuditEntry.objects.filter(action="fhir_export").count() == before
