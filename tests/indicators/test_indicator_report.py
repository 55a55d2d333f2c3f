"""The monthly PDF renders Chinese with a CJK font, and carries the charts."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from indicator_fixtures import build_march
from pypdf import PdfReader

from pingan.indicators.charts import line_chart
from pingan.indicators.definitions import Period
from pingan.indicators.report import monthly_pdf


@pytest.fixture
def march(db):
    cache.clear()
    return build_march()


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont")))
    return names


def test_the_chinese_report_embeds_noto_cjk_and_its_text_is_chinese(march):
    pdf = monthly_pdf(Period(2026, 3), "zh-hans")
    reader = PdfReader(io.BytesIO(pdf))
    assert any("NotoSansCJK" in f.replace("-", "") for f in _fonts(reader)), _fonts(reader)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "指标" in text


def test_the_english_report_and_its_charts(march, client_as):
    response = client_as("cdc").get("/indicators/report.pdf?period=2026-03&lang=en")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Indicators for 2026-03" in text and "Trends over the last 12 months" in text


def test_the_svg_chart_leaves_a_gap_for_missing_months():
    svg = line_chart("Adherence", ["2026-01", "2026-02", "2026-03"], [50.0, None, 60.0], "%")
    assert svg.startswith("<svg") and svg.count("<circle") == 2 and "<polyline" not in svg
