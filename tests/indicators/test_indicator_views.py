"""Dashboards per role, drill-down, evaluation, exports and the command."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from indicator_fixtures import build_march

from pingan.indicators.definitions import INDICATORS


@pytest.fixture
def march(db):
    cache.clear()
    return build_march()


def test_staff_see_the_full_set_with_trends_and_drilldown_links(march, client_as):
    page = client_as("clinician").get("/indicators/?period=2026-03").content.decode()
    assert "chart.umd.min.js" in page and "indicator-series" in page
    assert "/indicators/adherence/2026-03/clients/" in page
    assert "48 / 165" in page


def test_police_see_only_suppressed_aggregates(march, client_as):
    response = client_as("police").get("/indicators/?period=2026-03")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/clients/" not in page
    shown = {row["ind"].id: row["r"] for sec in response.context["sections"] for row in sec["rows"]}
    # One take-home client: hidden, and so is clinic-only (total minus it would reveal it).
    assert shown["takehome_adherence"].value is None
    assert shown["clinic_only_adherence"].value is None
    assert shown["adherence"].numerator == 48  # six people in treatment: shown
    series = response.context["series"]
    for s in series:  # the trend is suppressed month by month too
        if s["id"] == "active_clients":
            assert s["values"][-1] == 5
        if s["id"] == "takehome_clients":
            assert s["values"][-1] is None
    for section in response.context["sections"]:
        for row in section["rows"]:
            r = row["r"]
            if row["ind"].unit == "people":  # a zero gives no one away on screen
                assert r.numerator is None or r.numerator == 0 or r.numerator >= 5


def test_police_cannot_drill_down_or_export(march, client_as):
    police = client_as("police")
    assert police.get("/indicators/adherence/2026-03/clients/").status_code == 403
    assert police.get("/indicators/export.csv?period=2026-03").status_code == 403
    assert client_as("nurse").get("/indicators/").status_code == 403


def test_drilldown_lists_the_clients_behind_the_rate(march, client_as):
    response = client_as("clinician").get("/indicators/adequate_dose_share/2026-03/clients/")
    rows = response.context["rows"]
    assert sorted(r["code"] for r in rows if r["counted"]) == ["A", "C", "G"]
    assert sorted(r["code"] for r in rows) == ["A", "B", "C", "D", "G"]
    detail = reverse("registry:detail", args=[march["A"].external_id])
    assert detail in response.content.decode()
    page = client_as("clinician").get("/indicators/adherence/2026-03/clients/")
    assert {r["code"] for r in page.context["rows"]} == {"A", "B", "C", "D", "F", "G"}
    assert client_as("clinician").get("/indicators/nothing/2026-03/clients/").status_code == 404
    assert client_as("clinician").get("/indicators/adherence/2026-99/clients/").status_code == 404


def test_evaluation_compares_with_intervals_and_says_not_randomised(march, client_as):
    response = client_as("manager").get("/indicators/evaluation/?from=2026-03&to=2026-03")
    page = response.content.decode()
    assert "并非随机分组" in page  # "the groups are not randomised", in the default language
    first = response.context["comparisons"][0]["cells"]
    assert first[0]["numerator"] == 10 and first[0]["denominator"] == 22
    assert first[0]["ci"] and first[1]["numerator"] == 38
    bad = client_as("manager").get("/indicators/evaluation/?from=garbage")
    assert bad.status_code == 200 and "garbage" in bad.content.decode()


def test_csv_export_is_suppressed(march, client_as):
    response = client_as("manager").get("/indicators/export.csv?period=2026-03&lang=en")
    text = response.content.decode("utf-8-sig")
    rows = {r["indicator"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {i.id for i in INDICATORS}
    assert rows["takehome_clients"]["value"] == "" and rows["takehome_clients"]["suppressed"] == "1"
    assert rows["active_clients"]["value"] == "5"


def test_the_command_prints_the_json_contract(march, capsys):
    call_command("indicators", "--period", "2026-03", "--format", "json", "--no-progress")
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "2026-03"
    assert data["indicators"]["adherence"]["numerator"] == 48
    assert data["indicators"]["adherence"]["denominator"] == 165
    assert set(data["indicators"]) == {i.id for i in INDICATORS}
    assert data["indicators"]["takehome_adherence"]["ci_low"] < 10 / 22


def test_the_command_through_duckdb_gives_the_same_numbers(march, capsys):
    call_command("indicators", "--period", "2026-03", "--format", "json", "--no-progress")
    sql = json.loads(capsys.readouterr().out)
    call_command(
        "indicators",
        "--period",
        "2026-03",
        "--format",
        "json",
        "--engine",
        "duckdb",
        "--no-progress",
    )
    duck = json.loads(capsys.readouterr().out)
    assert duck == sql


def test_the_command_table_and_bad_period(march, capsys):
    from django.core.management.base import CommandError

    call_command("indicators", "--period", "2026-03", "--no-progress")
    assert "adherence" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("indicators", "--period", "March", "--no-progress")
