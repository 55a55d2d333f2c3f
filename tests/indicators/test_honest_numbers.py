"""Honest numbers on the indicator screens: the CDC sees every figure, the police see a
figure hidden only when it, or the people it leaves out, number 1 to 4; 0 of 0 reads
"no data" for everyone; shares read as percentages and counts as whole numbers."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from pingan.indicators import queries
from pingan.indicators.definitions import BY_ID, INDICATORS, IndicatorSet, Period, make_result
from pingan.indicators.report import display
from pingan.indicators.suppression import for_police_screen, suppress

MONTH = Period(2026, 10)


def _row(ind_id: str, numerator: int, denominator: int | None, people: int, in_numerator: int):
    return make_result(BY_ID[ind_id], (numerator, denominator, people, in_numerator))


def centre_of_209() -> IndicatorSet:
    """209 active clients, 206 of them tested for HIV (3 were not); nobody was enrolled 12
    months before, so 12-month retention is 0 of 0; every other figure is safely large."""
    results = {}
    for ind in INDICATORS:
        if ind.kind == "count":
            results[ind.id] = _row(ind.id, 120, None, 120, 120)
        else:
            results[ind.id] = _row(ind.id, 100, 200, 200, 100)
    results["active_clients"] = _row("active_clients", 209, None, 209, 209)
    for same in ("mean_dose_mg", "adequate_dose_share", "hcv_tested_12m", "hbv_tested_12m"):
        results[same] = _row(same, 100 if same != "mean_dose_mg" else 14000, 209, 209, 100)
    for same in ("syphilis_tested_12m", "tb_screened_12m"):
        results[same] = _row(same, 100, 209, 209, 100)
    results["hiv_tested_12m"] = _row("hiv_tested_12m", 206, 209, 209, 206)
    results["retention_12m"] = _row("retention_12m", 0, 0, 0, 0)
    return IndicatorSet(MONTH, results)


def test_a_cell_whose_complement_is_small_is_hidden_for_the_police_only():
    full = centre_of_209()
    police = for_police_screen(full).results
    assert police["hiv_tested_12m"].value is None and police["hiv_tested_12m"].suppressed
    assert police["hiv_tested_12m"].numerator is None  # 209 - 206 = 3 people not tested
    # 0 of 0 describes nobody: not hidden, and it reads "no data".
    assert not police["retention_12m"].suppressed
    assert display(BY_ID["retention_12m"], police["retention_12m"]) in ("无数据", "No data")
    # The export rule is stricter (a zero is a small cell too) and unchanged.
    assert suppress(full.results)["retention_12m"].suppressed


@pytest.fixture
def crafted(monkeypatch):
    cache.clear()
    monkeypatch.setattr(queries, "month", lambda period: centre_of_209())
    yield
    cache.clear()


@pytest.mark.django_db
def test_the_cdc_sees_206_of_209_where_the_police_see_a_hidden_cell(crafted, client_as):
    cdc = client_as("cdc").get("/indicators/?period=2026-10")
    assert cdc.status_code == 200
    page = cdc.content.decode()
    rows = {row["ind"].id: row for s in cdc.context["sections"] for row in s["rows"]}
    assert rows["hiv_tested_12m"]["shown"] == "98.6\u00a0%"
    assert "206 / 209" in page and "98.6\u00a0%" in page
    assert "已隐去" not in page and "< 5" not in page
    assert rows["retention_12m"]["shown"] == "无数据"
    assert rows["active_clients"]["shown"] == "209"  # a count, not "209.0"
    assert "/2026-10/clients/" not in page  # figures, not the clients behind them

    police = client_as("police").get("/indicators/?period=2026-10")
    page = police.content.decode()
    rows = {row["ind"].id: row for s in police.context["sections"] for row in s["rows"]}
    assert rows["hiv_tested_12m"]["shown"] == "为保护隐私已隐去"
    assert rows["hiv_tested_12m"]["r"].numerator is None
    assert "206 / 209" not in page and "为保护隐私已隐去" in page
    assert rows["retention_12m"]["shown"] == "无数据"
    assert rows["active_clients"]["shown"] == "209"


@pytest.mark.django_db
def test_chart_series_name_their_unit(crafted, client_as):
    series = client_as("cdc").get("/indicators/?period=2026-10").context["series"]
    units = {s["id"]: s["unit"] for s in series}
    assert units["hiv_tested_12m"] == "%"
    assert units["mean_dose_mg"] == "mg"
    assert units["active_clients"] == "人"


@pytest.mark.django_db
def test_the_police_evaluation_shows_what_it_can(crafted, client_as, monkeypatch):
    """Take-home clients' samples: 2 of 10 people positive (small); clinic-only: 0 positive
    (a zero gives no one away); the police see clinic-only and adherence, and the take-home
    positive rate is hidden with the one figure that would give it away."""

    def pooled(first, last, full=True):
        r = {
            "adherence": _row("adherence", 5000, 6000, 200, 200),
            "takehome_adherence": _row("takehome_adherence", 1500, 1600, 50, 50),
            "clinic_only_adherence": _row("clinic_only_adherence", 3500, 4400, 150, 150),
            "opiate_positive_rate": _row("opiate_positive_rate", 2, 120, 60, 2),
            "takehome_opiate_positive_rate": _row("takehome_opiate_positive_rate", 2, 20, 10, 2),
            "clinic_only_opiate_positive_rate": _row(
                "clinic_only_opiate_positive_rate", 0, 100, 50, 0
            ),
        }
        return [
            queries.Comparison(o, str(BY_ID[o].label), r[th], r[co], r[o])
            for o, th, co in queries.COMPARED
        ]

    monkeypatch.setattr(queries, "evaluation", pooled)
    police = client_as("police").get("/indicators/evaluation/?from=2026-10&to=2026-10")
    assert police.status_code == 200
    adherence, positive = police.context["comparisons"]
    assert [c["shown"] for c in adherence["cells"]] == ["93.8\u00a0%", "79.5\u00a0%", "83.3\u00a0%"]
    takehome, clinic_only, overall = positive["cells"]
    assert takehome["shown"] == "为保护隐私已隐去"
    assert clinic_only["shown"] == "0.0\u00a0%"  # 0 of 100 samples: shown
    assert overall["shown"] == "为保护隐私已隐去"  # the total minus clinic-only would give it
    cdc = client_as("cdc").get("/indicators/evaluation/?from=2026-10&to=2026-10")
    assert [c["shown"] for c in cdc.context["comparisons"][1]["cells"]] == [
        "10.0\u00a0%",
        "0.0\u00a0%",
        "1.7\u00a0%",
    ]
